/* cmd_account.c: `certcli account ACTION`: the ACME account (RFC 8555 section 7.3):
 * register (7.3, with External Account Binding 7.3.4), find by key (onlyReturnExisting,
 * 7.3.1), show, update contacts (7.3.2), key rollover (7.3.5), deactivate (7.3.6) and the
 * orders list (7.1.2.1). The account key and URL live in the state dir (reg_store_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cmd_common.h"
#include "client/registration.h"
#include "common/clock.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"

#define MAX_ORDER_PAGES 20

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] account ACTION [OPTIONS]\n"
    "Actions:\n"
    "  register     create the account (a new key, or --key FILE) and save it\n"
    "  find         find the account of a key (--key FILE, else the saved one) and save it\n"
    "  show         the account object: URL, status, contacts, key\n"
    "  update       replace the contacts (--email/--contact, or --clear-contacts)\n"
    "  rollover     change the account key (keyChange); the old key is kept as\n"
    "               DIR/accounts/HOST_PORT/account-TIMESTAMP.key\n"
    "  deactivate   deactivate the account for good\n"
    "  orders       list the account's order URLs\n"
    "Options:\n"
    "  --key FILE           register/find/rollover: use this PEM private key\n"
    "  --key-type TYPE      register/rollover: generate a key of TYPE: rsa2048, rsa3072,\n"
    "                       rsa4096, ec256 (default), ec384, ed25519 (if the CA takes it)\n"
    "  --clear-contacts     update: remove every contact\n"
    "  -h, --help           this text\n";
static const char help2[] =
    "The account is saved per server in DIR/accounts/HOST_PORT/ (account.key 0600,\n"
    "account.json).\n"
    "--json prints {\"result\": \"registered\"|\"exists\"|\"found\"|\"ok\"|\"updated\"|\n"
    "\"unchanged\"|\"rolled-over\"|\"deactivated\"|\"failed\", \"account\": URL, ...}.\n"
    "Exit status: 0 done, 1 failed (the server's problem type and detail on stderr),\n"
    "2 bad usage, 3 nothing to do (register: the account exists already; update: the\n"
    "contacts are already those).\n";

enum { OPT_KEY = CLI_OPT_LOCAL, OPT_KEY_TYPE, OPT_CLEAR };

struct acct_args {
    struct cli_acct_opts a;
    const char *key_file;
    const char *key_type;
    bool clear;
};

static int print_help(void)
{
    fputs(help, stdout);
    fputs(cli_account_help, stdout);
    fputs(help2, stdout);
    return CLI_DONE;
}

/* The account key to use: --key FILE, or a new one of --key-type. */
static enum mc_err new_key(const struct acct_args *a, const char *cmd, EVP_PKEY **out)
{
    enum key_type t = KEY_EC_P256;
    enum mc_err err;
    if (a->key_file != NULL) {
        err = key_load(a->key_file, out);
        if (err != MC_OK) {
            fprintf(stderr, "certcli %s: cannot load the key %s: %s\n", cmd, a->key_file,
                    mc_strerror(err));
        }
        return err;
    }
    if (a->key_type != NULL && key_type_parse(a->key_type, &t) != MC_OK)
        return MC_ERR_INVALID; /* checked at parse time already */
    err = key_generate(t, out);
    if (err != MC_OK)
        fprintf(stderr, "certcli %s: cannot generate a %s key: %s\n", cmd, key_type_name(t),
                mc_strerror(err));
    return err;
}

/* Adds url, status, contacts and the key's type and thumbprint to j. */
static void describe(cJSON *j, struct sess *s, const cJSON *account)
{
    const char *status = NULL;
    const cJSON *contact = NULL;
    enum key_type kt;
    char *thumb = NULL;
    EVP_PKEY *key = sess_account_key(s);

    if (sess_kid(s) != NULL)
        cJSON_AddStringToObject(j, "account", sess_kid(s));
    if (account != NULL && json_get_string(account, "status", &status) == MC_OK)
        cJSON_AddStringToObject(j, "status", status);
    if (account != NULL && json_get_array(account, "contact", &contact) == MC_OK)
        cJSON_AddItemToObject(j, "contact", cJSON_Duplicate(contact, true));
    if (key != NULL && key_classify(key, &kt) == MC_OK)
        cJSON_AddStringToObject(j, "key_type", key_type_name(kt));
    if (key != NULL && jwk_thumbprint(key, &thumb) == MC_OK)
        cJSON_AddStringToObject(j, "key_thumbprint", thumb);
    free(thumb);
}

/* Prints j's members for a person. */
static void say_account(const struct cli_globals *g, const cJSON *j)
{
    const cJSON *it;
    if (g->json || g->verbosity < 0)
        return;
    cJSON_ArrayForEach(it, j)
    {
        if (cJSON_IsString(it)) {
            fprintf(stdout, "%-15s %s\n", it->string, it->valuestring);
        } else if (cJSON_IsArray(it)) {
            const cJSON *e;
            if (cJSON_GetArraySize(it) == 0)
                fprintf(stdout, "%-15s (none)\n", it->string);
            cJSON_ArrayForEach(e, it)
            {
                if (cJSON_IsString(e))
                    fprintf(stdout, "%-15s %s\n", it->string, e->valuestring);
            }
        }
    }
}

static int finish(const struct cli_globals *g, cJSON *j, int rc)
{
    say_account(g, j);
    if (g->json)
        cli_json_emit(j);
    else
        cJSON_Delete(j);
    return rc;
}

static int need_account(const struct cli_globals *g, struct sess *s, const char *cmd)
{
    enum mc_err err = cli_account_load(g, s, cmd);
    if (err == MC_ERR_NOT_FOUND) {
        fprintf(stderr,
                "certcli %s: no account saved for %s in %s: run `certcli account "
                "register` (or `account find --key FILE`)\n",
                cmd, g->server, g->state_dir);
        return cli_fail(g, NULL, cmd, "no account", err);
    }
    if (err != MC_OK)
        return cli_fail(g, NULL, cmd, "cannot load the account", err);
    return CLI_DONE;
}

static int do_register(const struct cli_globals *g, struct sess *s, const struct acct_args *a)
{
    const char *cmd = "account register";
    EVP_PKEY *key = NULL;
    char *kid = NULL;
    cJSON *account = NULL, *failure = NULL, *j = NULL;
    bool created = false;
    int rc;

    if (a->key_file == NULL && a->key_type == NULL &&
        reg_store_load(g->state_dir, g->server, &key, &kid) == MC_OK) {
        /* Registering again with the saved key only finds it (a 200): say so rather
         * than make a second account the user would lose track of. */
        cli_say(g, "certcli %s: an account is saved for %s already; checking it", cmd, g->server);
    } else if (new_key(a, cmd, &key) != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "no account key", MC_ERR_INVALID);
        goto out;
    }
    rc = cli_account_register(g, s, cmd, &a->a, key, &created, &account, &failure);
    if (rc != CLI_DONE) {
        if (g->json && failure != NULL) {
            cJSON_AddStringToObject(failure, "result", "failed");
            cli_json_emit(failure);
            failure = NULL;
        }
        goto out;
    }
    j = cJSON_CreateObject();
    if (j == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    cJSON_AddStringToObject(j, "result", created ? "registered" : "exists");
    describe(j, s, account);
    if (!created)
        cli_say(g,
                "certcli %s: the account exists already (use `account update` to change "
                "its contacts)",
                cmd);
    rc = finish(g, j, created ? CLI_DONE : CLI_NOTHING);
out:
    EVP_PKEY_free(key);
    free(kid);
    cJSON_Delete(account);
    cJSON_Delete(failure);
    return rc;
}

static int do_find(const struct cli_globals *g, struct sess *s, const struct acct_args *a)
{
    const char *cmd = "account find";
    EVP_PKEY *key = NULL;
    char *kid = NULL;
    cJSON *account = NULL, *j = NULL;
    struct reg_new req;
    enum mc_err err;
    int rc;

    if (a->key_file != NULL)
        err = key_load(a->key_file, &key);
    else
        err = reg_store_load(g->state_dir, g->server, &key, &kid);
    if (err != MC_OK) {
        rc = cli_fail(g, NULL, cmd,
                      a->key_file ? "cannot load --key" : "no saved key: give --key FILE", err);
        goto out;
    }
    err = sess_set_account(s, key, NULL);
    if (err != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "cannot use the key", err);
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.only_existing = true;
    err = reg_register(s, &req, NULL, &account);
    if (err != MC_OK) {
        rc = cli_fail(g, s, cmd, "no account for this key", err);
        goto out;
    }
    err = reg_store_save(g->state_dir, g->server, key, sess_kid(s));
    if (err != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "found, but cannot save it", err);
        goto out;
    }
    j = cJSON_CreateObject();
    if (j == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    cJSON_AddStringToObject(j, "result", "found");
    describe(j, s, account);
    rc = finish(g, j, CLI_DONE);
out:
    EVP_PKEY_free(key);
    free(kid);
    cJSON_Delete(account);
    return rc;
}

static int do_show(const struct cli_globals *g, struct sess *s)
{
    const char *cmd = "account show";
    cJSON *account = NULL, *j = NULL;
    const char *orders = NULL;
    enum mc_err err;
    int rc = need_account(g, s, cmd);

    if (rc != CLI_DONE)
        return rc;
    err = reg_fetch(s, &account);
    if (err != MC_OK)
        return cli_fail(g, s, cmd, "cannot fetch the account", err);
    j = cJSON_CreateObject();
    if (j == NULL) {
        cJSON_Delete(account);
        return cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
    }
    cJSON_AddStringToObject(j, "result", "ok");
    describe(j, s, account);
    if (json_get_string(account, "orders", &orders) == MC_OK)
        cJSON_AddStringToObject(j, "orders", orders);
    if (g->json)
        cJSON_AddItemToObject(j, "object", account);
    else
        cJSON_Delete(account);
    return finish(g, j, CLI_DONE);
}

/* True if the account's contact array holds exactly the wanted contacts (any order). */
static bool same_contacts(const cJSON *account, const struct cli_acct_opts *o)
{
    const cJSON *have = NULL, *it;
    size_t n = 0;
    if (json_get_array(account, "contact", &have) != MC_OK)
        return o->n_contacts == 0;
    cJSON_ArrayForEach(it, have)
    {
        bool found = false;
        if (!cJSON_IsString(it))
            return false;
        for (size_t i = 0; i < o->n_contacts; i++)
            if (strcmp(it->valuestring, o->contacts[i]) == 0)
                found = true;
        if (!found)
            return false;
        n++;
    }
    for (size_t i = 0; i < o->n_contacts; i++) {
        bool found = false;
        cJSON_ArrayForEach(it, have)
        {
            if (strcmp(it->valuestring, o->contacts[i]) == 0)
                found = true;
        }
        if (!found)
            return false;
    }
    return n > 0 || o->n_contacts == 0;
}

static int do_update(const struct cli_globals *g, struct sess *s, const struct acct_args *a)
{
    const char *cmd = "account update";
    cJSON *account = NULL, *j = NULL;
    enum mc_err err;
    int rc = need_account(g, s, cmd);

    if (rc != CLI_DONE)
        return rc;
    err = reg_fetch(s, &account);
    if (err != MC_OK) {
        rc = cli_fail(g, s, cmd, "cannot fetch the account", err);
        goto out;
    }
    j = cJSON_CreateObject();
    if (j == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    if (same_contacts(account, &a->a)) {
        cJSON_AddStringToObject(j, "result", "unchanged");
        describe(j, s, account);
        cli_say(g, "certcli %s: the contacts are already those", cmd);
        rc = finish(g, j, CLI_NOTHING);
        j = NULL;
        goto out;
    }
    cJSON_Delete(account);
    account = NULL;
    err = reg_update_contacts(s, (const char *const *)a->a.contacts, a->a.n_contacts, &account);
    if (err != MC_OK) {
        rc = cli_fail(g, s, cmd, "the CA refused the update", err);
        goto out;
    }
    cJSON_AddStringToObject(j, "result", "updated");
    describe(j, s, account);
    rc = finish(g, j, CLI_DONE);
    j = NULL;
out:
    cJSON_Delete(account);
    cJSON_Delete(j);
    return rc;
}

static int do_rollover(const struct cli_globals *g, struct sess *s, const struct acct_args *a)
{
    const char *cmd = "account rollover";
    EVP_PKEY *old_key = NULL, *key = NULL;
    char *adir = NULL, *backup = NULL, *pending = NULL;
    cJSON *j = NULL;
    char stamp[40];
    enum mc_err err;
    int rc = need_account(g, s, cmd);

    if (rc != CLI_DONE)
        return rc;
    old_key = sess_account_key(s);
    if (old_key == NULL || !EVP_PKEY_up_ref(old_key)) {
        old_key = NULL;
        rc = cli_fail(g, NULL, cmd, "no account key", MC_ERR_STATE);
        goto out;
    }
    if (new_key(a, cmd, &key) != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "no new key", MC_ERR_INVALID);
        goto out;
    }
    if (jwk_equal(old_key, key)) {
        rc = cli_usage(cmd, "the new key is the current account key");
        goto out;
    }
    /* Both keys are on disk before the CA is asked: the old one as the backup, the new
     * one as account-pending.key, so that a crash between keyChange and saving leaves the
     * key the CA now knows (`account find --key` recovers from it). */
    {
        struct tm tm;
        time_t now = (time_t)clock_now(NULL);
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    }
    err = cli_account_dir(g, &adir);
    if (err == MC_OK && (asprintf(&backup, "%s/account-%s.key", adir, stamp) < 0 ||
                         asprintf(&pending, "%s/account-pending.key", adir) < 0))
        err = MC_ERR_NOMEM;
    if (err == MC_OK)
        err = key_save(backup, old_key);
    if (err == MC_OK)
        err = key_save(pending, key);
    if (err != MC_OK) {
        rc = cli_fail(g, NULL, cmd, "cannot save the keys before the rollover", err);
        goto out;
    }
    err = reg_rollover(s, key);
    if (err != MC_OK) {
        /* The old key is still the account's: neither copy is needed. */
        unlink(pending);
        unlink(backup);
        rc = cli_fail(g, s, cmd, "keyChange refused; the old key stays", err);
        goto out;
    }
    err = reg_store_save(g->state_dir, g->server, key, sess_kid(s));
    if (err != MC_OK) {
        fprintf(stderr, "certcli %s: the CA has the new key, kept in %s\n", cmd, pending);
        rc = cli_fail(g, NULL, cmd, "cannot save the new account key", err);
        goto out;
    }
    unlink(pending);
    j = cJSON_CreateObject();
    if (j == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    cJSON_AddStringToObject(j, "result", "rolled-over");
    describe(j, s, NULL);
    cJSON_AddStringToObject(j, "backup", backup);
    rc = finish(g, j, CLI_DONE);
out:
    EVP_PKEY_free(old_key);
    EVP_PKEY_free(key);
    free(adir);
    free(backup);
    free(pending);
    return rc;
}

static int do_deactivate(const struct cli_globals *g, struct sess *s)
{
    const char *cmd = "account deactivate";
    cJSON *j = NULL;
    enum mc_err err;
    int rc = need_account(g, s, cmd);

    if (rc != CLI_DONE)
        return rc;
    err = reg_deactivate(s);
    if (err != MC_OK)
        return cli_fail(g, s, cmd, "the CA did not deactivate the account", err);
    j = cJSON_CreateObject();
    if (j == NULL)
        return cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
    cJSON_AddStringToObject(j, "result", "deactivated");
    describe(j, s, NULL);
    cli_say(g, "certcli %s: deactivated; the CA will refuse this account from now on", cmd);
    return finish(g, j, CLI_DONE);
}

static int do_orders(const struct cli_globals *g, struct sess *s)
{
    const char *cmd = "account orders";
    char **urls = NULL;
    size_t n = 0;
    cJSON *j = NULL, *arr = NULL;
    enum mc_err err;
    int rc = need_account(g, s, cmd);

    if (rc != CLI_DONE)
        return rc;
    err = reg_orders(s, MAX_ORDER_PAGES, &urls, &n);
    if (err != MC_OK)
        return cli_fail(g, s, cmd, "cannot list the orders", err);
    j = cJSON_CreateObject();
    arr = j ? cJSON_AddArrayToObject(j, "orders") : NULL;
    if (arr == NULL) {
        reg_free_urls(urls, n);
        cJSON_Delete(j);
        return cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
    }
    cJSON_AddStringToObject(j, "result", "ok");
    if (sess_kid(s) != NULL)
        cJSON_AddStringToObject(j, "account", sess_kid(s));
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(urls[i]));
        if (!g->json && g->verbosity >= 0)
            fprintf(stdout, "%s\n", urls[i]);
    }
    reg_free_urls(urls, n);
    if (g->json)
        cli_json_emit(j);
    else
        cJSON_Delete(j);
    return CLI_DONE;
}

int cmd_account(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        CLI_ACCOUNT_LONGOPTS,
        {"key", required_argument, NULL, OPT_KEY},
        {"key-type", required_argument, NULL, OPT_KEY_TYPE},
        {"clear-contacts", no_argument, NULL, OPT_CLEAR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const actions[] = {"register", "find",       "show",   "update",
                                          "rollover", "deactivate", "orders", NULL};
    struct acct_args a;
    struct sess *s = NULL;
    const char *action;
    char cmd[32];
    enum key_type kt;
    int rc = CLI_USAGE, c, r;
    bool known = false;

    memset(&a, 0, sizeof(a));
    if (argc < 2)
        return cli_usage("account", "which action? register, find, show, update, rollover, "
                                    "deactivate or orders");
    action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return print_help();
    for (size_t i = 0; actions[i] != NULL; i++)
        if (strcmp(action, actions[i]) == 0)
            known = true;
    if (!known)
        return cli_usage("account", "no action '%s'", action);
    snprintf(cmd, sizeof(cmd), "account %s", action);

    /* The action's own options: argv[1] (the action) plays argv[0]. */
    opterr = 0;
    optind = 0;
    for (;;) {
        c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL);
        if (c == -1)
            break;
        r = cli_acct_opt(&a.a, c, optarg, cmd);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            rc = print_help();
            goto out;
        case OPT_KEY:
            a.key_file = optarg;
            break;
        case OPT_KEY_TYPE:
            if (key_type_parse(optarg, &kt) != MC_OK) {
                rc = cli_usage(cmd, "unknown --key-type '%s'", optarg);
                goto out;
            }
            a.key_type = optarg;
            break;
        case OPT_CLEAR:
            a.clear = true;
            break;
        default:
            rc = cli_bad_option(cmd, c, argv + 1);
            goto out;
        }
    }
    if (optind < argc - 1) {
        rc = cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    /* Which options each action takes: a silently ignored option is a surprise later. */
    {
        bool reg = strcmp(action, "register") == 0;
        bool upd = strcmp(action, "update") == 0;
        bool roll = strcmp(action, "rollover") == 0;
        bool find = strcmp(action, "find") == 0;
        if (a.a.n_contacts > 0 && !reg && !upd) {
            rc = cli_usage(cmd, "--email/--contact go with register or update");
            goto out;
        }
        if ((a.a.agree_tos || a.a.eab_kid || a.a.eab_hmac || a.a.eab_alg) && !reg) {
            rc = cli_usage(cmd, "--agree-tos and --eab-* go with register");
            goto out;
        }
        if (a.key_file != NULL && !reg && !roll && !find) {
            rc = cli_usage(cmd, "--key goes with register, find or rollover");
            goto out;
        }
        if (a.key_type != NULL && !reg && !roll) {
            rc = cli_usage(cmd, "--key-type goes with register or rollover");
            goto out;
        }
        if (a.key_type != NULL && a.key_file != NULL) {
            rc = cli_usage(cmd, "--key and --key-type exclude each other");
            goto out;
        }
        if (a.clear && (!upd || a.a.n_contacts > 0)) {
            rc = cli_usage(cmd, "--clear-contacts goes with update, without --email/--contact");
            goto out;
        }
        if (upd && !a.clear && a.a.n_contacts == 0) {
            rc = cli_usage(cmd, "give the new contacts (--email/--contact) or --clear-contacts");
            goto out;
        }
        if (reg && cli_acct_check(&a.a, cmd) != CLI_DONE)
            goto out;
    }

    rc = cli_session_open(g, cmd, &s);
    if (rc != CLI_DONE)
        goto out;
    if (strcmp(action, "register") == 0)
        rc = do_register(g, s, &a);
    else if (strcmp(action, "find") == 0)
        rc = do_find(g, s, &a);
    else if (strcmp(action, "show") == 0)
        rc = do_show(g, s);
    else if (strcmp(action, "update") == 0)
        rc = do_update(g, s, &a);
    else if (strcmp(action, "rollover") == 0)
        rc = do_rollover(g, s, &a);
    else if (strcmp(action, "deactivate") == 0)
        rc = do_deactivate(g, s);
    else
        rc = do_orders(g, s);
out:
    sess_free(s);
    cli_acct_opts_free(&a.a);
    return rc;
}
