/* The size-report program. With -DNIMBUS_PROBES it calls every probe the
 * tools/size/probe build exports (probes.inc is generated per feature set
 * by tools/size-report.sh from the library's symbols); without it, it is
 * the baseline. */
#include <stdint.h>

volatile uint32_t nimbus_size_input;
volatile uint32_t nimbus_size_sink;

#ifdef NIMBUS_PROBES
#define PROBE(name) uint32_t name(uint32_t input);
#include "probes.inc"
#undef PROBE
#endif

int main(void)
{
#ifdef NIMBUS_PROBES
#define PROBE(name) nimbus_size_sink += name(nimbus_size_input);
#include "probes.inc"
#undef PROBE
#endif
    nimbus_size_sink += nimbus_size_input;
    return 0;
}
