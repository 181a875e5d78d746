/* evidence_text.c: the README and the checker an evidence bundle ships
 * (replay/evidence/README.txt and verify.py), built into escort-replay as
 * they are, so that a bundle never depends on an installed copy.  Each is
 * followed by a NUL (not part of the text).  The paths are relative to
 * the top of the source tree, where make runs; replay/module.mk makes this
 * object depend on both files. */
#include "replay/evidence.h"

__asm__(
"	.section .rodata\n"
"	.global evidence_readme\n"
"	.global evidence_readme_end\n"
"	.global evidence_verify_py\n"
"	.global evidence_verify_py_end\n"
"evidence_readme:\n"
"	.incbin \"replay/evidence/README.txt\"\n"
"evidence_readme_end:\n"
"	.byte 0\n"
"evidence_verify_py:\n"
"	.incbin \"replay/evidence/verify.py\"\n"
"evidence_verify_py_end:\n"
"	.byte 0\n"
"	.previous\n");
