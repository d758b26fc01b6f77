/* dnsmock/answer.c: being written. */
