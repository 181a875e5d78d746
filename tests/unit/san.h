/*
 * san.h: UNDER_SAN is 1 in the ASan+UBSan build (make SAN=1), else 0.  A
 * test that repeats one check over many inputs does fewer rounds of it there
 * (the sanitizers need the code paths, not every round; the release build
 * runs them all).
 */
#ifndef ESCORT_TESTS_SAN_H
#define ESCORT_TESTS_SAN_H

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SAN 1
#else
#define UNDER_SAN 0
#endif

#endif
