/* common/b64url.c: being written. */
