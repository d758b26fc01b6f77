/* cmd_renew.c: `certcli renew`: for each lineage (or --name), decide whether it is due
 * (renew.h: a third of the lifetime left, --days, or the ARI window of RFC 9773), renew
 * the due ones with the same identifiers, profile and key type and with "replaces" set,
 * and keep the ARI state (window and Retry-After) in meta.json whether or not anything
 * was renewed, so a cron job asks the CA no more often than it wants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd_common.h"
#include "client/lineage.h"
#include "client/renew.h"
#include "common/ari.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/x509.h"

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] renew [--name LINEAGE] [OPTIONS]\n"
    "Checks every lineage in DIR/certs (or only --name) issued by --server and renews the\n"
    "ones that are due: when a third of the lifetime is left (half for certificates of 10\n"
    "days or less), within --days of expiry when given, or earlier when the CA's ACME\n"
    "Renewal Information (RFC 9773) window has begun. The CA is asked for ARI at most when\n"
    "the Retry-After it gave last time allows (kept in meta.json), unless --force.\n"
    "A renewal orders the same identifiers, profile, preferred chain and key type, with\n"
    "\"replaces\" set to the old certificate's ARI identifier when the CA has renewalInfo.\n"
    "Options:\n"
    "  --name LINEAGE       only this lineage\n"
    "  --days N             due within N days of expiry (instead of the lifetime rule)\n"
    "  --force              renew whether due or not (and ask for ARI now)\n"
    "  --ari-now            ask the CA for ARI now even if its last Retry-After has not\n"
    "                       passed (then decide as usual)\n"
    "  --dry-run            say what is due and would be renewed; change nothing but the\n"
    "                       ARI state in meta.json\n"
    "  --no-ari             do not ask the CA for renewal information, ignore the stored\n"
    "                       window, send no \"replaces\"\n"
    "  --reuse-key          keep each lineage's private key (default: a new key of the same\n"
    "                       type)\n"
    "Solvers, hooks and polling: as for `certcli issue` (see `certcli issue --help`). With\n"
    "no solver option, each lineage is renewed with the solvers it was issued with (from\n"
    "meta.json; the TSIG secret is never stored: give --tsig-secret again), and its\n"
    "deploy hook unless --deploy-hook is given.\n";
static const char help2[] =
    "--json prints {\"result\": \"renewed\"|\"not-due\"|\"would-renew\"|\"failed\",\n"
    "\"lineages\": [{\"lineage\", \"action\": "
    "\"renewed\"|\"not-due\"|\"would-renew\"|\"skipped\"|\n"
    "\"failed\", \"reason\", \"due_at\", \"not_after\", \"ari\", ...}]}.\n"
    "Exit status: 0 something was renewed (with --dry-run: something is due), 1 any\n"
    "lineage failed, 2 bad usage, 3 nothing was due.\n";

enum {
    OPT_NAME = CLI_OPT_LOCAL,
    OPT_DAYS,
    OPT_FORCE,
    OPT_DRY_RUN,
    OPT_NO_ARI,
    OPT_REUSE_KEY,
    OPT_ARI_NOW,
};

struct renew_args {
    const char *name;
    long days;
    bool force, dry_run, no_ari, reuse_key, ari_now;
    struct cli_solver_opts so;
};

/* The run's session and account, opened on first need: a run where nothing is due and
 * ARI is not asked never touches the network. */
struct renew_ctx {
    const struct cli_globals *g;
    struct sess *s;
    bool session_failed, account_loaded;
    char *certs;
    int n_renewed, n_due, n_failed;
};

static struct sess *session(struct renew_ctx *c)
{
    if (c->s == NULL && !c->session_failed) {
        /* cli_session_open prints the failure; --json still gets one object at the end. */
        struct cli_globals quiet = *c->g;
        quiet.json = false;
        if (cli_session_open(&quiet, "renew", &c->s) != CLI_DONE)
            c->session_failed = true;
    }
    return c->s;
}

static void add_time(cJSON *o, const char *k, int64_t t)
{
    char buf[40];
    if (t > 0)
        cJSON_AddStringToObject(o, k, cli_fmt_time(t, buf, sizeof(buf)));
}

static void failed(struct renew_ctx *c, cJSON *entry, cJSON *why)
{
    c->n_failed++;
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "action");
    cJSON_AddStringToObject(entry, "action", "failed");
    if (why != NULL)
        cJSON_AddItemToObject(entry, "failure", why);
}

/* Renews one due lineage: the same order again, with replaces. */
static void renew_one(struct renew_ctx *c, const struct renew_args *a, const char *name, X509 *leaf,
                      EVP_PKEY *old_key, const cJSON *meta, cJSON *entry)
{
    const struct cli_globals *g = c->g;
    struct sess *s = session(c);
    struct ident_list ids;
    struct cli_solver_opts so = a->so;
    struct cli_order order;
    EVP_PKEY *key = NULL;
    const cJSON *ids_j = NULL, *sol_j = NULL;
    const char *kt_name = NULL, *profile = NULL, *chain = NULL, *hook = NULL;
    char *ari_id = NULL;
    cJSON *result = NULL;
    enum key_type kt;
    bool staple = false;
    enum mc_err err;
    int rc;

    memset(&ids, 0, sizeof(ids));
    memset(&order, 0, sizeof(order));
    if (s == NULL) {
        failed(c, entry, cli_failure(NULL, "renew", "no session", MC_ERR_IO));
        goto out;
    }
    if (!c->account_loaded) {
        err = cli_account_load(g, s, "renew");
        if (err != MC_OK) {
            if (err == MC_ERR_NOT_FOUND)
                fprintf(stderr, "certcli renew: no account saved for %s in %s\n", g->server,
                        g->state_dir);
            failed(c, entry, cli_failure(NULL, "renew", "no usable account", err));
            goto out;
        }
        c->account_loaded = true;
    }
    if (old_key == NULL) {
        fprintf(stderr,
                "certcli renew: %s was issued from a CSR: renew it with "
                "`certcli issue --csr FILE --name %s`\n",
                name, name);
        failed(c, entry,
               cli_failure(NULL, "renew", "no private key in the lineage", MC_ERR_NOT_FOUND));
        goto out;
    }
    if (json_get_array(meta, "identifiers", &ids_j) != MC_OK ||
        cli_idents_from_json(ids_j, &ids) != MC_OK) {
        failed(c, entry,
               cli_failure(NULL, "renew", "meta.json has no valid identifiers", MC_ERR_INVALID));
        goto out;
    }
    if (json_get_string(meta, "profile", &profile) != MC_OK)
        profile = NULL;
    if (json_get_string(meta, "preferred_chain", &chain) != MC_OK)
        chain = NULL;
    if (json_get_bool(meta, "must_staple", &staple) != MC_OK)
        staple = false;
    if (!cli_solver_any(&so)) {
        if (json_get_object(meta, "solver", &sol_j) == MC_OK)
            cli_solver_from_json(sol_j, &so);
        if (so.deploy_hook == NULL && json_get_string(meta, "deploy_hook", &hook) == MC_OK)
            so.deploy_hook = hook;
    }
    if (!cli_solver_any(&so)) {
        fprintf(stderr, "certcli renew: %s: no solver in meta.json: give one (--http ...)\n", name);
        failed(c, entry, cli_failure(NULL, "renew", "no challenge solver", MC_ERR_INVALID));
        goto out;
    }
    if (a->reuse_key) {
        key = old_key;
        EVP_PKEY_up_ref(key);
    } else {
        /* The same type as before: the key_type meta.json names, else the old key's. */
        if (json_get_string(meta, "key_type", &kt_name) != MC_OK ||
            key_type_parse(kt_name, &kt) != MC_OK) {
            if (key_classify(old_key, &kt) != MC_OK)
                kt = KEY_EC_P256;
        }
        err = key_generate(kt, &key);
        if (err != MC_OK) {
            failed(c, entry, cli_failure(NULL, "renew", "cannot generate a key", err));
            goto out;
        }
    }
    /* "replaces" (RFC 9773 section 5) only where the CA speaks ARI. */
    if (!a->no_ari && sess_directory(s)->renewal_info != NULL &&
        ari_cert_id(leaf, &ari_id) != MC_OK)
        ari_id = NULL;
    order.name = name;
    order.idents = &ids;
    order.cert_key = key;
    order.must_staple = staple;
    order.profile = profile;
    order.replaces = ari_id;
    order.preferred_chain = chain;
    order.solvers = &so;
    rc = cli_obtain(g, s, "renew", &order, &result);
    if (rc != CLI_DONE) {
        failed(c, entry, result);
        result = NULL;
        goto out;
    }
    c->n_renewed++;
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "action");
    cJSON_AddStringToObject(entry, "action", "renewed");
    cJSON_AddItemToObject(entry, "new", result);
    result = NULL;
out:
    cJSON_Delete(result);
    EVP_PKEY_free(key);
    ident_list_free(&ids);
    free(ari_id);
}

/* Checks one lineage; adds its entry to list. */
static void check_one(struct renew_ctx *c, const struct renew_args *a, const char *name,
                      cJSON *list)
{
    const struct cli_globals *g = c->g;
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    cJSON *meta = NULL, *entry = cJSON_CreateObject();
    const char *dir = NULL;
    struct ari_window w;
    int64_t nb = 0, na = 0, now = cli_now(g), due_at = 0;
    enum renew_reason why;
    bool meta_changed = false;
    enum mc_err err;
    char t1[40];

    memset(&w, 0, sizeof(w));
    if (entry == NULL) {
        c->n_failed++;
        return;
    }
    cJSON_AddItemToArray(list, entry);
    cJSON_AddStringToObject(entry, "lineage", name);
    cJSON_AddStringToObject(entry, "action", "not-due");
    err = lineage_read(c->certs, name, &leaf, &key, &meta);
    if (err == MC_OK)
        err = x509_validity(leaf, &nb, &na);
    if (err != MC_OK) {
        char what[128];
        snprintf(what, sizeof(what), "cannot read lineage %s", name);
        failed(c, entry, cli_failure(NULL, "renew", what, err));
        goto out;
    }
    add_time(entry, "not_after", na);
    if (json_get_string(meta, "directory", &dir) == MC_OK && strcmp(dir, g->server) != 0) {
        /* Renewing at another CA would be a surprise: the user says which server. */
        cli_say(g, "certcli renew: %s: skipped, issued by %s (run with --server %s)", name, dir,
                dir);
        cJSON_DeleteItemFromObjectCaseSensitive(entry, "action");
        cJSON_AddStringToObject(entry, "action", "skipped");
        cJSON_AddStringToObject(entry, "directory", dir);
        goto out;
    }

    if (!a->no_ari) {
        if (lineage_meta_get_ari(meta, &w.start, &w.end, &w.explanation_url, &w.next_check) !=
            MC_OK) {
            /* A damaged ari member: ask the CA again rather than trust it. */
            ari_window_free(&w);
            memset(&w, 0, sizeof(w));
        }
        if (a->force || a->ari_now || w.next_check == 0 || now >= w.next_check) {
            struct sess *s = session(c);
            if (s == NULL) {
                failed(c, entry,
                       cli_failure(NULL, "renew", "cannot reach the CA for ARI", MC_ERR_IO));
                goto out;
            }
            if (sess_directory(s)->renewal_info != NULL) {
                struct ari_window nw;
                memset(&nw, 0, sizeof(nw));
                err = renew_fetch_ari(s, leaf, now, &nw);
                if (err == MC_OK) {
                    ari_window_free(&w);
                    w = nw;
                    meta_changed = true;
                } else {
                    /* No window is no reason to fail: the lifetime rule still decides. */
                    fprintf(stderr, "certcli renew: %s: no renewal information: %s\n", name,
                            sess_last_error(s));
                    ari_window_free(&nw);
                }
            }
        } else {
            cli_say(g, "certcli renew: %s: ARI asked recently; next check after %s", name,
                    cli_fmt_time(w.next_check, t1, sizeof(t1)));
        }
        if (meta_changed &&
            lineage_meta_set_ari(meta, w.start, w.end, w.explanation_url, w.next_check) != MC_OK)
            meta_changed = false;
        {
            const cJSON *aj = cJSON_GetObjectItemCaseSensitive(meta, "ari");
            if (aj != NULL)
                cJSON_AddItemToObject(entry, "ari", cJSON_Duplicate(aj, true));
        }
    }
    why = renew_due(nb, na, now, (int)a->days, a->no_ari ? NULL : &w, &due_at);
    cJSON_AddStringToObject(entry, "reason",
                            a->force && why == RENEW_NOT_DUE ? "forced" : renew_reason_name(why));
    add_time(entry, "due_at", due_at);
    if (meta_changed) {
        /* Kept whether or not this run renews: the Retry-After the CA asked for. */
        err = lineage_write_meta(c->certs, name, meta);
        if (err != MC_OK)
            fprintf(stderr, "certcli renew: %s: cannot save the ARI state: %s\n", name,
                    mc_strerror(err));
    }
    if (why == RENEW_NOT_DUE && !a->force) {
        cli_say(g, "certcli renew: %s: not due until %s", name,
                cli_fmt_time(due_at, t1, sizeof(t1)));
        goto out;
    }
    c->n_due++;
    if (a->dry_run) {
        cli_say(g, "certcli renew: %s: would renew (%s)", name,
                a->force && why == RENEW_NOT_DUE ? "forced" : renew_reason_name(why));
        cJSON_DeleteItemFromObjectCaseSensitive(entry, "action");
        cJSON_AddStringToObject(entry, "action", "would-renew");
        goto out;
    }
    cli_say(g, "certcli renew: %s: renewing (%s)", name,
            a->force && why == RENEW_NOT_DUE ? "forced" : renew_reason_name(why));
    renew_one(c, a, name, leaf, key, meta, entry);
out:
    ari_window_free(&w);
    X509_free(leaf);
    EVP_PKEY_free(key);
    cJSON_Delete(meta);
}

int cmd_renew(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"days", required_argument, NULL, OPT_DAYS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"no-ari", no_argument, NULL, OPT_NO_ARI},
        {"reuse-key", no_argument, NULL, OPT_REUSE_KEY},
        {"ari-now", no_argument, NULL, OPT_ARI_NOW},
        CLI_SOLVER_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "renew";
    struct renew_args a;
    struct renew_ctx c;
    char **names = NULL;
    size_t n = 0;
    cJSON *out_j = NULL, *list = NULL;
    enum mc_err err;
    int rc = CLI_USAGE, ch, r;

    memset(&a, 0, sizeof(a));
    memset(&c, 0, sizeof(c));
    c.g = g;
    cli_solver_opts_init(&a.so);
    opterr = 0;
    for (;;) {
        ch = getopt_long(argc, argv, ":h", opts, NULL);
        if (ch == -1)
            break;
        r = cli_solver_opt(&a.so, ch, optarg, cmd);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (ch) {
        case 'h':
            fputs(help, stdout);
            fputs(cli_solver_help, stdout);
            fputs(help2, stdout);
            rc = CLI_DONE;
            goto out;
        case OPT_NAME:
            if (!lineage_name_ok(optarg)) {
                rc = cli_usage(cmd, "'%s' is not a lineage name", optarg);
                goto out;
            }
            a.name = optarg;
            break;
        case OPT_DAYS:
            if (cli_parse_long(optarg, 1, 3650, &a.days) != MC_OK) {
                rc = cli_usage(cmd, "--days wants a number from 1 to 3650, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_FORCE:
            a.force = true;
            break;
        case OPT_DRY_RUN:
            a.dry_run = true;
            break;
        case OPT_NO_ARI:
            a.no_ari = true;
            break;
        case OPT_REUSE_KEY:
            a.reuse_key = true;
            break;
        case OPT_ARI_NOW:
            a.ari_now = true;
            break;
        default:
            rc = cli_bad_option(cmd, ch, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (cli_solver_check(&a.so, cmd, !cli_solver_any(&a.so)) != CLI_DONE)
        goto out;
    if (a.no_ari && a.ari_now) {
        rc = cli_usage(cmd, "--no-ari and --ari-now exclude each other");
        goto out;
    }

    out_j = cJSON_CreateObject();
    list = out_j ? cJSON_AddArrayToObject(out_j, "lineages") : NULL;
    err = list != NULL ? cli_certs_dir(g, &c.certs) : MC_ERR_NOMEM;
    if (err != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "out of memory", err);
        goto out;
    }
    if (a.name != NULL) {
        names = calloc(1, sizeof(*names));
        if (names != NULL)
            names[0] = strdup(a.name);
        if (names == NULL || names[0] == NULL) {
            rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
            goto out;
        }
        n = 1;
    } else {
        err = lineage_list(c.certs, &names, &n);
        if (err == MC_ERR_NOT_FOUND) {
            names = NULL;
            n = 0;
        } else if (err != MC_OK) {
            rc = cli_fail(g, NULL, cmd, "cannot list the lineages", err);
            goto out;
        }
        if (n == 0)
            cli_say(g, "certcli renew: no certificates in %s", c.certs);
    }
    for (size_t i = 0; i < n; i++)
        check_one(&c, &a, names[i], list);

    rc = c.n_failed > 0                                  ? CLI_FAILED
         : c.n_renewed > 0 || (a.dry_run && c.n_due > 0) ? CLI_DONE
                                                         : CLI_NOTHING;
    cJSON_AddStringToObject(out_j, "result",
                            c.n_failed > 0             ? "failed"
                            : c.n_renewed > 0          ? "renewed"
                            : a.dry_run && c.n_due > 0 ? "would-renew"
                                                       : "not-due");
    cJSON_AddNumberToObject(out_j, "renewed", c.n_renewed);
    cJSON_AddNumberToObject(out_j, "due", c.n_due);
    cJSON_AddNumberToObject(out_j, "failed", c.n_failed);
    if (g->json) {
        cli_json_emit(out_j);
        out_j = NULL;
    }
    if (rc == CLI_NOTHING)
        cli_say(g, "certcli renew: nothing to do");
out:
    cJSON_Delete(out_j);
    if (a.name != NULL && names != NULL) {
        free(names[0]);
        free(names);
    } else {
        lineage_free_names(names, n);
    }
    free(c.certs);
    sess_free(c.s);
    return rc;
}
