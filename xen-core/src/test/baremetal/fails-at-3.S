/* SPDX-License-Identifier: Apache-2.0 */
/* Harness self-check: must end with exit status 3, proving a failing check is reported as failing. */
#include "test.h"
START
  TEST(1)
  li t0, 1; CHECK_EQ(t0, 1)
  TEST(3)
  li t0, 1; CHECK_EQ(t0, 2)
  j pass
trap_entry:
  j fail
END
