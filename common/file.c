/* common/file.c: being written. */
