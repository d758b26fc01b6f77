/* cmd.h: the certcli front end. main.c parses the global options, then hands the rest of
 * argv to one subcommand. Each subcommand lives in its own cmd_NAME.c, parses its own
 * options with getopt_long (argv[0] is the subcommand's name), answers --help, and returns
 * one of the exit codes below. What a query asks for (the directory, an account, its
 * orders) goes to stdout; progress, notes and errors for people go to stderr; --json
 * writes one JSON object to stdout instead. */
#ifndef CERTCLI_CMD_H
#define CERTCLI_CMD_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes, the same for every subcommand (README "certcli exit codes"). */
enum cli_exit {
    CLI_DONE = 0,        /* issued, renewed, revoked, changed */
    CLI_FAILED = 1,      /* the server refused, a check failed, a transport error */
    CLI_USAGE = 2,       /* bad command line */
    CLI_NOTHING = 3,     /* nothing to do: not due for renewal, already in that state */
};

/* The global options, before the subcommand. */
struct cli_globals {
    const char *server;     /* --server URL (directory); default $CERTCLI_SERVER, else
                               https://127.0.0.1:14000/dir */
    const char *state_dir;  /* --dir; default $CERTCLI_DIR, else $HOME/.certcli */
    const char *ca_bundle;  /* --ca-bundle FILE */
    bool insecure;          /* --insecure */
    bool json;              /* --json */
    int verbosity;          /* -q: -1, default 0, -v: 1 (info), -vv: 2 (debug) */
    uint64_t seed;          /* --seed N for retry jitter; 0: from the OS */
    /* --now TIME: seconds to add to the real clock in every decision that depends on the
     * date (renewal due, ARI windows and Retry-After kept between runs, issued_at), so
     * that certcli can follow a CA running on a virtual clock (mockca's /clock). 0 when
     * not given. */
    int64_t now_offset;
};

/* The current time as the commands see it: real time plus g->now_offset. */
int64_t cli_now(const struct cli_globals *g);

struct cli_cmd {
    const char *name;
    const char *summary;    /* one line for `certcli --help` */
    int (*run)(int argc, char **argv, const struct cli_globals *g);
};

/* The table main.c dispatches on, NULL-terminated by name; defined in main.c. */
extern const struct cli_cmd cli_cmds[];

int cmd_account(int argc, char **argv, const struct cli_globals *g);  /* cmd_account.c */
int cmd_issue(int argc, char **argv, const struct cli_globals *g);    /* cmd_issue.c */
int cmd_renew(int argc, char **argv, const struct cli_globals *g);    /* cmd_renew.c */
int cmd_revoke(int argc, char **argv, const struct cli_globals *g);   /* cmd_revoke.c */
int cmd_directory(int argc, char **argv, const struct cli_globals *g); /* cmd_directory.c:
                                                   the directory, profiles, meta */
int cmd_bench(int argc, char **argv, const struct cli_globals *g);    /* cmd_bench.c */
/* cmd_certcentral.c: the DigiCert CertCentral Services API v2 commands ("cc" is an alias). */
int cmd_certcentral(int argc, char **argv, const struct cli_globals *g);
/* cmd_conformance.c: grade an ACME server (client/srvconf.h). */
int cmd_conformance(int argc, char **argv, const struct cli_globals *g);

#endif
