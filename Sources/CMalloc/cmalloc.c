#include <malloc.h>
#include "cmalloc.h"

size_t rk_malloc_used_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
