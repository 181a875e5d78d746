/*
 * textfield: the fields of the store's one-line text forms (tree heads in
 * heads.esh, receipts in a proxy's StateDir): decimal integers and
 * lower-case hex, written and read by one rule.  No allocation.
 *
 * rec__field_u64: the whole of s as a decimal u64 (digits only, no sign or
 * space, no overflow); 0, or -1 with *v unspecified.
 * rec__field_unhex: exactly 2n lower-case hex digits into n bytes; 0 or -1.
 * rec__field_hex: n bytes as 2n lower-case hex digits and a NUL into out
 * (2n + 1 bytes).
 */
#ifndef RECORDER_TEXTFIELD_H
#define RECORDER_TEXTFIELD_H

#include <stddef.h>
#include <stdint.h>

int rec__field_u64(const char *s, uint64_t *v);
int rec__field_unhex(const char *s, uint8_t *out, size_t n);
void rec__field_hex(const uint8_t *in, size_t n, char *out);

#endif
