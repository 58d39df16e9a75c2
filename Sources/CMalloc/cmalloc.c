#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmalloc.h"

size_t rk_malloc_used_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

size_t rk_malloc_held_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return m.arena + m.hblkhd;
}

int rk_malloc_trim(void) {
    return malloc_trim(0);
}

char *rk_malloc_info(size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL) return NULL;
    int rc = malloc_info(0, f);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

size_t rk_malloc_usable_size(void *p) {
    return malloc_usable_size(p);
}
