/* The application processors' start-up blob: the same one cpuinfo uses. */
#include "../cpuinfo/ap_trampoline.S"
