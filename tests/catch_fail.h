/* catch_fail.h - run code that should fail() and check how it failed.
 *
 * Teaches: lib/util.h's fail() prints "error: ...\nhint: ...\n" and exits;
 * a test cannot let the process exit, so it installs a handler that records
 * the code and the message and longjmps back into the test. The handler is
 * removed again before anything is asserted, so a failing assert never
 * leaves it installed for the next test.
 * Leaves out: the exit itself (make check runs the chapters' binaries with
 * bad flags and checks their exit status).
 *
 * All the test files are linked into one binary: everything here is
 * static, so each file that includes this gets its own jump buffer and
 * message. CATCH_FAIL alone needs no Criterion library: the MPI tests
 * (tests/mpi/test_dp.c, a plain program) use it too.
 *
 *   EXPECT_FAIL(stmt, code, needle...)  stmt must fail() with `code`, and the
 *                                       message must hold every needle and a
 *                                       "hint: " line.
 *   CATCH_FAIL(stmt)                    run stmt with fail() caught; then
 *                                       caught_failed says whether it failed.
 * After either, caught_code and caught_msg hold the code and the message
 * (0 and "" when stmt returned), for asserts of the caller's own.
 * EXPECT_FAIL takes at least one needle. A local that stmt changes and the
 * caller reads afterwards must be volatile (longjmp may lose it otherwise).
 */
#ifndef CATCH_FAIL_H
#define CATCH_FAIL_H

#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static jmp_buf caught_jump;
static int caught_failed;     /* 1 if the last CATCH_FAIL's stmt called fail() */
static int caught_code;       /* its exit code, 0 if it returned */
static char caught_msg[1024]; /* its whole message, "" if it returned */

static inline void catch_fail_handler(int code, const char *message) {
    caught_failed = 1;
    caught_code = code;
    snprintf(caught_msg, sizeof caught_msg, "%s", message);
    longjmp(caught_jump, 1);
}

#define CATCH_FAIL(stmt)                                                                                     \
    do {                                                                                                     \
        caught_failed = 0;                                                                                   \
        caught_code = 0;                                                                                     \
        caught_msg[0] = '\0';                                                                                \
        set_fail_handler(catch_fail_handler);                                                                \
        if (setjmp(caught_jump) == 0) {                                                                      \
            stmt;                                                                                            \
        }                                                                                                    \
        set_fail_handler(NULL);                                                                              \
    } while (0)

/* Assert the last CATCH_FAIL failed with `code` and a message holding each
 * of the NULL-terminated needles and a hint. `what` names the case. */
static inline void expect_caught(const char *what, int code, const char *const *needles) {
    cr_assert(caught_failed, "%s returned instead of failing (want exit %d, a message with \"%s\")", what, code,
              needles[0] ? needles[0] : "");
    cr_assert(caught_code == code, "%s: exit code %d, want %d; message:\n%s", what, caught_code, code, caught_msg);
    for (int i = 0; needles[i]; i++)
        cr_assert(strstr(caught_msg, needles[i]), "%s: the message lacks \"%s\":\n%s", what, needles[i], caught_msg);
    cr_assert(strstr(caught_msg, "hint: "), "%s: the message gives no hint:\n%s", what, caught_msg);
}

/* The case is named "file:line: stmt", the line being the EXPECT_FAIL's. */
#define CATCH_FAIL_STR_(x) #x
#define CATCH_FAIL_STR(x) CATCH_FAIL_STR_(x)
#define EXPECT_FAIL(stmt, code, ...)                                                                         \
    do {                                                                                                     \
        CATCH_FAIL(stmt);                                                                                    \
        expect_caught(__FILE__ ":" CATCH_FAIL_STR(__LINE__) ": " #stmt, (code),                              \
                      (const char *const[]){__VA_ARGS__, NULL});                                             \
    } while (0)

#endif
