/*
 * nimbus_net_os.h - what the shared socket + TLS transport (ports/common)
 * needs from the operating system, and where it finds the socket API.
 *
 * Socket headers: BSD sockets as POSIX hosts and ESP-IDF provide them
 * (<sys/socket.h>, <netdb.h>, ...) by default; with NIMBUS_NET_LWIP
 * defined, lwIP's own headers and its lwip_* names, which exist whenever
 * LWIP_SOCKET is on, whatever LWIP_COMPAT_SOCKETS and
 * LWIP_POSIX_SOCKETS_IO_NAMES say.
 *
 * Readiness: poll() by default; select() with NIMBUS_NET_USE_SELECT
 * (lwIP without LWIP_SOCKET_POLL, and the FreeRTOS port).
 *
 * Each port implements the three nimbus_net_os_* functions below.
 */
#ifndef NIMBUS_NET_OS_H
#define NIMBUS_NET_OS_H

#include <stddef.h>
#include <stdint.h>

#if defined(NIMBUS_NET_LWIP)
#include "lwip/netdb.h"
#include "lwip/sockets.h"
#define NN_SOCKET lwip_socket
#define NN_CONNECT lwip_connect
#define NN_SEND lwip_send
#define NN_RECV lwip_recv
#define NN_CLOSE lwip_close
#define NN_FCNTL lwip_fcntl
#define NN_SETSOCKOPT lwip_setsockopt
#define NN_GETSOCKOPT lwip_getsockopt
#define NN_SELECT lwip_select
#define NN_GETADDRINFO lwip_getaddrinfo
#define NN_FREEADDRINFO lwip_freeaddrinfo
#else
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#if !defined(NIMBUS_NET_USE_SELECT)
#include <poll.h>
#endif
#define NN_SOCKET socket
#define NN_CONNECT connect
#define NN_SEND send
#define NN_RECV recv
#define NN_CLOSE close
#define NN_FCNTL fcntl
#define NN_SETSOCKOPT setsockopt
#define NN_GETSOCKOPT getsockopt
#define NN_SELECT select
#define NN_GETADDRINFO getaddrinfo
#define NN_FREEADDRINFO freeaddrinfo
#define NN_HAVE_GAI_STRERROR 1
#endif

/** Milliseconds from a monotonic clock (never goes back). */
uint64_t nimbus_net_os_now_ms(void);

/** Fills out with len random bytes from a source fit to seed the TLS
 *  random generator. Returns 0, or -1 if the source failed. */
int nimbus_net_os_random(void *out, size_t len);

/** Writes one log line (no trailing newline) where the port logs. */
void nimbus_net_os_log(const char *line);

#endif /* NIMBUS_NET_OS_H */
