/*
 * standin.h - test-only controls of the stand-in kernel that FreeRTOS has
 * no equivalent for.
 */
#ifndef NIMBUS_STANDIN_H
#define NIMBUS_STANDIN_H

#include <stdint.h>

/** Moves the tick count forward by ticks at once (e.g. across the 32-bit
 *  wrap), as if that much time had passed. */
void vStandinAddTicks(uint64_t ticks);

/** Number of tasks created and not yet deleted. */
unsigned uxStandinLiveTasks(void);

#endif /* NIMBUS_STANDIN_H */
