/* dnsfault.h: what a fault rule does to a DNS answer. Matching (name glob, qtype, nth,
 * every, probability, times, window) is common/fault.c's; the match's "target" is the
 * query name (canonical, trailing dot) and its "kind" the qtype mnemonic ("TXT").
 *
 * JSON form of an action:
 *   {"action": "drop"}                       no answer at all (the client times out)
 *   {"action": "delay", "delay_ms": 1500}    answer normally, late (at most 30000 ms)
 *   {"action": "truncate"}                   over UDP: header + question, TC=1 (the
 *                                            client retries over TCP, which answers)
 *   {"action": "servfail"} / "refused" / "nxdomain"   that rcode, no records
 */
#ifndef DNSMOCK_DNSFAULT_H
#define DNSMOCK_DNSFAULT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/fault.h"

enum dns_fault_kind {
    DNS_FAULT_DROP = 1,
    DNS_FAULT_DELAY,
    DNS_FAULT_TRUNCATE,
    DNS_FAULT_SERVFAIL,
    DNS_FAULT_REFUSED,
    DNS_FAULT_NXDOMAIN,
};

#define DNS_FAULT_MAX_DELAY_MS 30000

/* Parses the action JSON into *out. MC_ERR_INVALID (message in err) for an unknown
 * action, a missing or out-of-range delay_ms, or unknown members. */
MC_MUST_CHECK enum mc_err dnsfault_action_parse(const cJSON *j, struct fault_action *out,
                                                char *err, size_t errn);
const char *dnsfault_kind_name(int kind);

#endif
