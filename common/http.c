/* common/http.c: being written. */
