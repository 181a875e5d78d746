/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used
 * by iSCSI and ext4.  crc32c(0, "123456789", 9) == 0xE3069283.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, else a table.
 */
#ifndef ESCORT_CRC32C_H
#define ESCORT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over p[0..n) and returns the new value. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The portable table implementation (for tests and non-x86 builds). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
