/* Stand-in for <zephyr/sys/fdtable.h>: fcntl constants (v4.1 values). */
#ifndef STANDIN_ZEPHYR_SYS_FDTABLE_H
#define STANDIN_ZEPHYR_SYS_FDTABLE_H
#define ZVFS_O_NONBLOCK 0x4000
#define ZVFS_F_GETFL 3
#define ZVFS_F_SETFL 4
#endif
