/* common/fault.c: being written. */
