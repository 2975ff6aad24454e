/*
 * _logfast_lx.c: C twins of linux_auth.parse_pam and juniper.parse_junos, and the dispatch the C
 * reader follows to reach them and the generic fallback (generic.parse_generic).
 *
 * Why: a PAM line under sshd (`sshd[42]: pam_unix(sshd:auth): ...`) cost ~8 us: sshd's twin
 * declines it, then LineParser._body tried parse_sshd, parse_junos (`sshd` is a Junos program
 * too), the marker scan of every parser, and parse_pam's regexes in Python (~35k of its ~76k
 * instructions were that dispatch). Junos lines (RT_FLOW sessions, UI_* logins) were ~5.5 us of
 * Python regexes. Here the reader repeats the dispatch's decisions for these bodies and reads them
 * in one walk each.
 *
 * What is claimed, and nothing else (None: LineParser._body, the reference, reads the body):
 *   - the program's parsers (the registry's by_program entries, each an LX_ code the reader module
 *     gives only for parse_sshd and parse_junos) are each known to refuse the body: sshd's refusal
 *     is its own first test (PAM, Junos tags); junos' is decided by its walk (lx_junos);
 *   - then PAM's twin where pam is the first candidate of the shape dispatch (one of its markers
 *     or prefixes in the body, none of the parsers' ordered before it) and its walk reads the form
 *     (`pam_MOD(SVC:KIND): ...`, `PAM ...`; the old Red Hat `prog(pam_unix)` program: Python);
 *   - else the generic fallback where no parser's marker or prefix is in the body at all.
 * The walks repeat the regexes of the Python parsers exactly (each pattern's text is in
 * LX_PATTERNS: reader.py turns the plan off when a module's pattern differs), on printable ASCII
 * bodies only (re's Unicode classes, `$` before a newline and str.strip's other whitespace never
 * come into it). Junos' forms read here: tagged messages (`TAG: text`, `TAG [junos@... k="v"]`)
 * but for text-form screens and SNMP_TRAP_LINK_* (Python), the EX `FW:` filter lines and rshd.
 * tests/collectors/logs/test_lx_twin.py compares the twins with the parsers on every sample line
 * and generated/mutated ones, and the reader's events with the Python path's.
 */
#include "_logfast_fw.h"
#include "_logfast_lx.h"

#include <string.h>

enum { L_EVENT_TYPE, L_PAM_MODULE, L_PAM_SERVICE, L_MESSAGE, L_PAM_KIND, L_OUTCOME, L_FAILURE, L_SUCCESS, L_USER,
       L_SRC_USER, L_USER_DOMAIN, L_LOGNAME, L_RUSER, L_TTY, L_UID, L_EUID, L_SRC_IP, L_SRC_HOST, L_SESSION_OPENED,
       L_SESSION_CLOSED, L_UNKNOWN, L_AUTH, L_SYSLOG, L_PAM, L_LINUX, L_EVENT_ID, L_SRC_PORT, L_DST_IP, L_DST_PORT,
       L_SERVICE_NAME, L_SNAT_IP, L_SNAT_PORT, L_DNAT_IP, L_DNAT_PORT, L_NETWORK_PROTOCOL, L_POLICY, L_SRC_ZONE,
       L_DST_ZONE, L_SESSION_ID, L_SOURCE_BYTES, L_DESTINATION_BYTES, L_REASON, L_FIREWALL, L_ACTION, L_DENY,
       L_PERMIT, L_BLOCKED, L_TRUE, L_FALSE, L_AAA, L_BGP, L_LINK, L_JUNIPER, L_JUNOS, L_FW, L_INTERFACE,
       L_IN_INTERFACE, L_ACCEPT, L_DISCARD, L_REJECT, L_PACKETS, L_RSHD_COMMAND, L_COMMAND, L_PROGRAM, L_EMPTY,
       L_N };
static const char *const L_TEXT[L_N] = {
    "event_type", "pam_module", "pam_service", "message", "pam_kind", "outcome", "failure", "success", "user",
    "src_user", "user_domain", "logname", "ruser", "tty", "uid", "euid", "src_ip", "src_host", "session_opened",
    "session_closed", "unknown", "auth", "syslog", "pam", "linux", "event_id", "src_port", "dst_ip", "dst_port",
    "service_name", "source.nat.ip", "source.nat.port", "destination.nat.ip", "destination.nat.port",
    "network_protocol", "policy", "src_zone", "dst_zone", "session_id", "source.bytes", "destination.bytes", "reason",
    "firewall", "action", "deny", "permit", "blocked", "true", "false", "aaa", "bgp", "link", "juniper", "junos", "FW",
    "interface", "in_interface", "accept", "discard", "reject", "packets", "rshd_command", "command", "program", ""};
static PyObject *LS[L_N];

/* juniper._SD_FIELDS, in its order (JUNOS_SD_FIELDS: reader.py checks they are the module's) */
static const char *const SD_KEYS[][2] = {
    {"source-address", "src_ip"}, {"destination-address", "dst_ip"}, {"source-port", "src_port"},
    {"destination-port", "dst_port"}, {"nat-source-address", "source.nat.ip"},
    {"nat-destination-address", "destination.nat.ip"}, {"bytes-from-client", "source.bytes"},
    {"bytes-from-server", "destination.bytes"}, {"username", "user"}, {"policy-name", "policy"},
    {"source-zone-name", "src_zone"}, {"destination-zone-name", "dst_zone"}, {"attack-name", "attack"},
    {"interface-name", "interface"}, {"service-name", "service_name"}, {"reason", "reason"}, {"action", "action"},
    {"application", "application"}, {"session-id-32", "session_id"}};
#define N_SD (sizeof SD_KEYS / sizeof SD_KEYS[0])
static PyObject *SD_MAP, *PROTO_ID;
/* base.IANA_PROTO (LX_PROTOS: reader.py checks it is the module's) */
static const char *const PROTOS[][2] = {{"1", "icmp"}, {"6", "tcp"},         {"17", "udp"},  {"47", "gre"},
                                        {"50", "esp"}, {"51", "ah"},         {"58", "ipv6-icmp"}, {"132", "sctp"},
                                        {"2", "igmp"}, {"89", "ospf"}};
#define N_PROTOS (sizeof PROTOS / sizeof PROTOS[0])
static PyObject *PROTO_MAP;

/* the regexes these walks repeat, as their modules write them (reader.py compares) */
static const char *const LX_PATTERNS[] = {
    /* linux_auth: _PAM, _PAM_KV, _SESSION, _FOR_USER, _IS_IP */
    "(?P<mod>pam_\\w+)\\((?P<svc>[\\w.-]+):(?P<kind>\\w+)\\):?\\s*(?P<what>.*)",
    "\\b(rhost|user|ruser|logname|tty|uid|euid)=(\\S*)",
    "session (?P<state>opened|closed) for user (?P<user>[^\\s(]+)(?:\\(uid=\\d+\\))?(?: by (?P<by>[^\\s(]*))?",
    "(?:for user|for|user) '?(?P<user>[^\\s';,]+)'?",
    "^(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$",
    /* juniper: _TAGGED, _IS_TAG, _USER, _HOST, _SSH_CONN, _FLOW, _FLOW_TAIL, _CLOSE_REASON, _FW, _RSHD */
    "^(?P<tag>[A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:: | \\[(?P<sd>[^\\]]*)\\]\\s*)(?P<text>.*)",
    "^[A-Z][A-Z0-9]*_[A-Z0-9_]+$",
    "(?:for user|User|user) '(?P<user>[^']*)'",
    "from host '(?P<ip>[^']*)'|from (?P<ip2>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))",
    "ssh-connection '(?P<src>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])) (?P<sport>\\d+) "
    "(?P<dst>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])) (?P<dport>\\d+)'",
    "(?P<src>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))/(?P<sport>\\d+)->"
    "(?P<dst>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))/(?P<dport>\\d+) \\S+ "
    "(?P<svc>\\S+) (?P<nsrc>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))/(?P<nsport>\\d+)->"
    "(?P<ndst>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))/(?P<ndport>\\d+)",
    " (?P<proto>\\d{1,3}) (?P<policy>\\S+) (?P<szone>\\S+) (?P<dzone>\\S+) (?P<sid>\\d+)"
    "(?: (?P<pin>\\d+)\\((?P<bin>\\d+)\\) (?P<pout>\\d+)\\((?P<bout>\\d+)\\))?",
    "session closed (?P<reason>[^:]+):",
    "^FW: (?P<iface>\\S+)\\s+(?P<act>[ADR]) .*?(?P<proto>\\b[A-Za-z][\\w-]*) "
    "(?P<src>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])) "
    "(?P<dst>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]))\\s+(?P<sport>\\d+)\\s+"
    "(?P<dport>\\d+) \\((?P<pkts>\\d+) packets?\\)",
    "^(?P<ruser>[^@\\s]+)@(?P<ip>(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])) as "
    "(?P<user>\\S+): cmd='(?P<cmd>.*)'",
    /* sshd._JUNOS_TAG (parse_sshd's refusal) and base._IS_IP (juniper's is_ip) */
    "[A-Z][A-Z0-9]*_[A-Z0-9_]+: ",
    "^(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\\w+)?)$",
};
#define N_LX_PATTERNS (sizeof LX_PATTERNS / sizeof LX_PATTERNS[0])

/* junos' services and categories, and their route keys: [svc][firewall] */
enum { JS_SYSLOG, JS_AAA, JS_BGP, JS_LINK, JS_N };
static PyObject *J_SVC[JS_N], *J_CAT[2], *J_KEY[JS_N][2], *EMPTY_T;

/* ---- small walks --------------------------------------------------------------------------- */

static inline int dig(char c) { return c >= '0' && c <= '9'; }
static inline int hexc(char c) { return dig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static inline int upc(char c) { return c >= 'A' && c <= 'Z'; }

/* the first w in m[from:to], or -1 */
static Py_ssize_t lx_find(const char *m, Py_ssize_t from, Py_ssize_t to, const char *w, Py_ssize_t wn) {
    for (Py_ssize_t i = from; i + wn <= to; i++) {
        const char *p = memchr(m + i, w[0], (size_t)(to - wn + 1 - i));
        if (p == NULL) return -1;
        i = p - m;
        if (memcmp(p, w, (size_t)wn) == 0) return i;
    }
    return -1;
}
#define FIND(m, a, b, lit) lx_find((m), (a), (b), (lit), (Py_ssize_t)(sizeof(lit) - 1))
#define AT(m, i, b, lit) ((i) + (Py_ssize_t)(sizeof(lit) - 1) <= (b) && memcmp((m) + (i), (lit), sizeof(lit) - 1) == 0)

static inline Py_ssize_t digits_end(const char *m, Py_ssize_t i, Py_ssize_t b) {
    while (i < b && dig(m[i])) i++;
    return i;
}
static inline Py_ssize_t nonspace_end(const char *m, Py_ssize_t i, Py_ssize_t b) {
    while (i < b && m[i] != ' ') i++;
    return i;
}

/* base.digits of a digit run: int, None past 18 digits */
static PyObject *digits_of(const char *m, Py_ssize_t a, Py_ssize_t b) {
    if (b - a > 18) Py_RETURN_NONE;
    long long v = 0;
    for (Py_ssize_t k = a; k < b; k++) v = v * 10 + (m[k] - '0');
    return PyLong_FromLongLong(v);
}

/* m[a:b] is all of \d{1,3}(\.\d{1,3}){3} (every address pattern's first alternative) */
static int dotted4(const char *m, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t i = a;
    int g = 0;
    for (; g < 4; g++) {
        Py_ssize_t e = digits_end(m, i, b);
        if (e == i || e - i > 3) break;
        i = e;
        if (g < 3) {
            if (i >= b || m[i] != '.') break;
            i++;
        }
    }
    return g == 4 && i == b;
}

/* juniper's _IP matching all of m[a:b]: \d{1,3}(\.\d{1,3}){3} or [hex]*:[hex:.]*[hex] */
static int ip_full(const char *m, Py_ssize_t a, Py_ssize_t b) {
    if (dotted4(m, a, b)) return 1;
    Py_ssize_t i = a;
    while (i < b && hexc(m[i])) i++;
    if (i >= b || m[i] != ':') return 0;
    for (Py_ssize_t k = i + 1; k < b; k++)
        if (!hexc(m[k]) && m[k] != ':' && m[k] != '.') return 0;
    return b - 1 > i && hexc(m[b - 1]);
}

/* the end of the longest match of juniper's _IP at m[a:] (its alternatives in order), or -1 */
static Py_ssize_t ip_prefix(const char *m, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t i = a;
    int g = 0;
    for (; g < 3; g++) {
        Py_ssize_t e = digits_end(m, i, b);
        if (e == i || e - i > 3 || e >= b || m[e] != '.') break;
        i = e + 1;
    }
    if (g == 3) {
        Py_ssize_t e = digits_end(m, i, b);
        if (e > i) return e - i > 3 ? i + 3 : e;
    }
    i = a;
    while (i < b && hexc(m[i])) i++;
    if (i >= b || m[i] != ':') return -1;
    Py_ssize_t last = -1;
    for (Py_ssize_t k = i + 1; k < b && (hexc(m[k]) || m[k] == ':' || m[k] == '.'); k++)
        if (hexc(m[k])) last = k + 1;
    return last;
}

/* base._IS_IP on m[a:b] (juniper's is_ip) */
static int base_is_ip(const char *m, Py_ssize_t a, Py_ssize_t b) {
    if (dotted4(m, a, b)) return 1;
    Py_ssize_t end = b;
    const char *pc = memchr(m + a, '%', (size_t)(b - a));
    if (pc != NULL) {
        end = pc - m;
        if (end + 1 >= b) return 0;
        for (Py_ssize_t k = end + 1; k < b; k++)
            if (!is_word((unsigned char)m[k])) return 0;
    }
    int groups = 1, run = 0;
    for (Py_ssize_t k = a; k < end; k++) {
        if (m[k] == ':') {
            groups++, run = 0;
        } else if (hexc(m[k])) {
            if (++run > 4) return 0;
        } else {
            return 0;
        }
    }
    return groups >= 3 && groups <= 8;
}

/* linux_auth._IS_IP on m[a:b] */
static int auth_is_ip(const char *m, Py_ssize_t a, Py_ssize_t b) {
    if (dotted4(m, a, b)) return 1;
    Py_ssize_t colon = -1, dot = -1;
    for (Py_ssize_t k = a; k < b; k++) {
        char c = m[k];
        if (c == ':') {
            if (colon < 0) colon = k;
        } else if (c == '.') {
            if (dot < 0) dot = k;
        } else if (!hexc(c)) {
            return 0;
        }
    }
    return colon >= 0 && (dot < 0 || colon < dot) && colon < b - 1;
}

/* d[LS[key]] = v (v consumed); 0 or -1 */
static int lput(PyObject *d, int key, PyObject *v) {
    if (v == NULL) return -1;
    int rc = PyDict_SetItem(d, LS[key], v);
    Py_DECREF(v);
    return rc;
}
static inline int lsub(PyObject *d, int key, const char *m, Py_ssize_t a, Py_ssize_t b) {
    return lput(d, key, ascii_sub(m, a, b));
}
static inline int lconst(PyObject *d, int key, int v) { return PyDict_SetItem(d, LS[key], LS[v]); }

/* ---- PAM ------------------------------------------------------------------------------------ */

enum { KV_RHOST, KV_USER, KV_RUSER, KV_LOGNAME, KV_TTY, KV_UID, KV_EUID, KV_N };
static const char *const KV_KEYS[KV_N] = {"rhost", "user", "ruser", "logname", "tty", "uid", "euid"};
static const Py_ssize_t KV_LEN[KV_N] = {5, 4, 5, 7, 3, 3, 4};

/* _FOR_USER's search in m[a:b]: 1 with the user's range */
static int for_user(const char *m, Py_ssize_t a, Py_ssize_t b, Py_ssize_t *u0, Py_ssize_t *u1) {
    static const char *const ALTS[3] = {"for user ", "for ", "user "};
    static const Py_ssize_t ALEN[3] = {9, 4, 5};
    for (Py_ssize_t p = a; p < b; p++) {
        if (m[p] != 'f' && m[p] != 'u') continue;
        for (int k = 0; k < 3; k++) {
            if (p + ALEN[k] > b || memcmp(m + p, ALTS[k], (size_t)ALEN[k]) != 0) continue;
            Py_ssize_t q = p + ALEN[k];
            if (q < b && m[q] == '\'') q++;
            Py_ssize_t e = q;
            while (e < b && m[e] != ' ' && m[e] != '\'' && m[e] != ';' && m[e] != ',') e++;
            if (e > q) {
                *u0 = q, *u1 = e;
                return 1;
            }
        }
    }
    return 0;
}

/* linux_auth.parse_pam's fields of the body m[0:len] (msg) under app: a dict, None (Python:
 * the old Red Hat form, no app) or False (parse_pam refuses) */
static PyObject *pam_fields(PyObject *msg, const char *m, Py_ssize_t len, const char *app, Py_ssize_t an) {
    Py_ssize_t mod0 = -1, mod1 = -1, sv0 = 0, sv1 = 0, k0 = 0, k1 = 0, w0 = 0, w1 = len;
    for (Py_ssize_t i = FIND(m, 0, len, "pam_"); i >= 0; i = FIND(m, i + 1, len, "pam_")) {
        Py_ssize_t j = i + 4, e = j;
        while (e < len && is_word((unsigned char)m[e])) e++;
        if (e == j || e >= len || m[e] != '(') continue;
        Py_ssize_t s0 = e + 1, s1 = s0;
        while (s1 < len && (is_word((unsigned char)m[s1]) || m[s1] == '.' || m[s1] == '-')) s1++;
        if (s1 == s0 || s1 >= len || m[s1] != ':') continue;
        Py_ssize_t q0 = s1 + 1, q1 = q0;
        while (q1 < len && is_word((unsigned char)m[q1])) q1++;
        if (q1 == q0 || q1 >= len || m[q1] != ')') continue;
        Py_ssize_t w = q1 + 1;
        if (w < len && m[w] == ':') w++;
        while (w < len && m[w] == ' ') w++;
        mod0 = i, mod1 = e, sv0 = s0, sv1 = s1, k0 = q0, k1 = q1, w0 = w;
        break;
    }
    if (an == 0) Py_RETURN_NONE;
    if (mod0 < 0) {
        if (app[an - 1] == ')' && lx_find(app, 0, an, "(pam_", 5) >= 0) Py_RETURN_NONE; /* old Red Hat */
        if (!AT(m, 0, len, "PAM ")) Py_RETURN_FALSE;
        w0 = 4;
    }
    while (w0 < w1 && m[w0] == ' ') w0++; /* what.strip() */
    while (w1 > w0 && m[w1 - 1] == ' ') w1--;
    /* kv = dict(_PAM_KV.findall(what)): the last value of each key */
    Py_ssize_t kv0[KV_N], kv1[KV_N];
    for (int k = 0; k < KV_N; k++) kv0[k] = kv1[k] = -1;
    if (memchr(m + w0, '=', (size_t)(w1 - w0)) != NULL) {
        for (Py_ssize_t p = w0; p < w1; p++) {
            if (p > w0 && is_word((unsigned char)m[p - 1])) continue;
            for (int k = 0; k < KV_N; k++) {
                Py_ssize_t kl = KV_LEN[k];
                if (p + kl < w1 && m[p + kl] == '=' && memcmp(m + p, KV_KEYS[k], (size_t)kl) == 0) {
                    Py_ssize_t v = p + kl + 1;
                    kv0[k] = v, kv1[k] = nonspace_end(m, v, w1);
                    p = kv1[k] - 1;
                    break;
                }
            }
        }
    }
    /* head = what.split(";", 1)[0].strip(); low = head.lower() */
    Py_ssize_t h0 = w0, h1 = w0;
    while (h1 < w1 && m[h1] != ';') h1++;
    while (h1 > h0 && m[h1 - 1] == ' ') h1--;
    Py_ssize_t hn = h1 - h0;
    char small[512], *low = hn <= (Py_ssize_t)sizeof small / 2 - 8 ? small : PyMem_Malloc((size_t)hn * 2 + 16);
    if (low == NULL) return PyErr_NoMemory();
    char *name = low + hn + 4;
    for (Py_ssize_t k = 0; k < hn; k++) {
        char c = m[h0 + k];
        low[k] = upc(c) ? (char)(c + 32) : c;
    }
    /* event_name(low): the word runs joined by `_`, `_` stripped at the ends, at most 48 */
    Py_ssize_t nn = 0;
    memcpy(name, "pam_", 4);
    char *nm = name + 4;
    for (Py_ssize_t k = 0; k < hn;) {
        if (!is_word((unsigned char)low[k])) {
            k++;
            continue;
        }
        if (nn > 0) nm[nn++] = '_';
        while (k < hn && is_word((unsigned char)low[k])) nm[nn++] = low[k++];
    }
    Py_ssize_t ns = 0;
    while (ns < nn && nm[ns] == '_') ns++;
    while (nn > ns && nm[nn - 1] == '_') nn--;
    if (nn - ns > 48) nn = ns + 48;
    memmove(nm, nm + ns, (size_t)(nn - ns));
    nn -= ns;
    int failure = FIND(low, 0, hn, "fail") >= 0 || FIND(low, 0, hn, "unable") >= 0 ||
                  FIND(low, 0, hn, "faulty") >= 0 || FIND(low, 0, hn, "ignoring max") >= 0 ||
                  FIND(low, 0, hn, "locked") >= 0 || FIND(low, 0, hn, "unknown") >= 0 ||
                  FIND(low, 0, hn, "denied") >= 0;
    int granted = FIND(low, 0, hn, "granted access") >= 0;
    PyObject *fields = PyDict_New(), *et = ascii_sub(name, 0, 4 + nn);
    if (low != small) PyMem_Free(low);
    if (fields == NULL || lput(fields, L_EVENT_TYPE, et) < 0) goto fail;
    if (mod0 >= 0) {
        if (lsub(fields, L_PAM_MODULE, m, mod0, mod1) < 0 || lsub(fields, L_PAM_SERVICE, m, sv0, sv1) < 0 ||
            PyDict_SetItem(fields, LS[L_MESSAGE], msg) < 0 || lsub(fields, L_PAM_KIND, m, k0, k1) < 0)
            goto fail;
    } else if (lconst(fields, L_PAM_MODULE, L_PAM) < 0 || lsub(fields, L_PAM_SERVICE, app, 0, an) < 0 ||
               PyDict_SetItem(fields, LS[L_MESSAGE], msg) < 0) {
        goto fail;
    }
    if (failure && lconst(fields, L_OUTCOME, L_FAILURE) < 0) goto fail;
    /* _SESSION.search(what) */
    Py_ssize_t u0 = -1, u1 = -1, b0 = -1, b1 = -1;
    int opened = 0;
    for (Py_ssize_t i = FIND(m, w0, w1, "session "); i >= 0; i = FIND(m, i + 1, w1, "session ")) {
        int o = AT(m, i + 8, w1, "opened for user "), c = !o && AT(m, i + 8, w1, "closed for user ");
        if (!o && !c) continue;
        Py_ssize_t a = i + 24, e = a;
        while (e < w1 && m[e] != ' ' && m[e] != '(') e++;
        if (e == a) continue;
        u0 = a, u1 = e, opened = o;
        Py_ssize_t p = e;
        if (AT(m, p, w1, "(uid=")) {
            Py_ssize_t d = digits_end(m, p + 5, w1);
            if (d > p + 5 && d < w1 && m[d] == ')') p = d + 1;
        }
        if (AT(m, p, w1, " by ")) {
            b0 = p + 4, b1 = b0;
            while (b1 < w1 && m[b1] != ' ' && m[b1] != '(') b1++;
        }
        break;
    }
    int have_user = 0;
    if (u0 >= 0) {
        if (lsub(fields, L_USER, m, u0, u1) < 0 || lconst(fields, L_EVENT_TYPE, opened ? L_SESSION_OPENED : L_SESSION_CLOSED) < 0 ||
            lconst(fields, L_OUTCOME, L_SUCCESS) < 0 || (b1 > b0 && lsub(fields, L_SRC_USER, m, b0, b1) < 0))
            goto fail;
        have_user = 1;
    } else if (kv1[KV_USER] > kv0[KV_USER]) {
        u0 = kv0[KV_USER], u1 = kv1[KV_USER], have_user = 1;
        if (lsub(fields, L_USER, m, u0, u1) < 0) goto fail;
    } else if (FIND(m, w0, w1, "check pass; user unknown") >= 0) {
        if (lconst(fields, L_USER, L_UNKNOWN) < 0) goto fail;
    } else if (for_user(m, h0, h1, &u0, &u1)) {
        have_user = 1;
        if (lsub(fields, L_USER, m, u0, u1) < 0) goto fail;
    }
    if (granted && lconst(fields, L_OUTCOME, L_SUCCESS) < 0) goto fail;
    if (have_user) {
        const char *at = memchr(m + u0, '@', (size_t)(u1 - u0));
        if (at != NULL && (lsub(fields, L_USER, m, u0, at - m) < 0 || lsub(fields, L_USER_DOMAIN, m, at - m + 1, u1) < 0))
            goto fail;
    }
    static const int COPY[5][2] = {{KV_LOGNAME, L_LOGNAME}, {KV_RUSER, L_RUSER}, {KV_TTY, L_TTY}, {KV_UID, L_UID},
                                   {KV_EUID, L_EUID}};
    for (int k = 0; k < 5; k++) {
        int q = COPY[k][0];
        if (kv1[q] > kv0[q] && lsub(fields, COPY[k][1], m, kv0[q], kv1[q]) < 0) goto fail;
    }
    if (kv1[KV_RHOST] > kv0[KV_RHOST] &&
        lsub(fields, auth_is_ip(m, kv0[KV_RHOST], kv1[KV_RHOST]) ? L_SRC_IP : L_SRC_HOST, m, kv0[KV_RHOST],
             kv1[KV_RHOST]) < 0)
        goto fail;
    return fields;
fail:
    Py_XDECREF(fields);
    return NULL;
}

/* ---- Junos ---------------------------------------------------------------------------------- */

/* the end of a Junos tag `[A-Z][A-Z0-9]*_[A-Z0-9_]+` at t[0:] (its run of [A-Z0-9_]), or -1 */
static Py_ssize_t tag_end(const char *t, Py_ssize_t n) {
    if (n < 1 || !upc(t[0])) return -1;
    Py_ssize_t k = 1, us = -1;
    while (k < n && (upc(t[k]) || dig(t[k]) || t[k] == '_')) {
        if (t[k] == '_' && us < 0) us = k;
        k++;
    }
    return us < 0 || us > k - 2 ? -1 : k;
}

/* to_int(v) of a structured value: 1 (*out an int, or v itself), 0: not decided here */
static int sd_int(PyObject *v, PyObject **out) {
    const char *s = PyUnicode_DATA(v);
    Py_ssize_t n = PyUnicode_GET_LENGTH(v), k;
    int digit = 0, other = 0;
    for (k = 0; k < n; k++) {
        if (dig(s[k])) digit = 1;
        else if (s[k] != '+' && s[k] != '-' && s[k] != '_' && s[k] != ' ') other = 1;
    }
    if (!digit || other) { /* int() refuses: the text itself */
        *out = Py_NewRef(v);
        return 1;
    }
    if (n > 18 || digits_end(s, 0, n) != n) return 0;
    *out = digits_of(s, 0, n);
    return *out != NULL ? 1 : -1;
}

/* fields["network_protocol"] = transport(proto) (strip, lower, IANA's name; "" -> None): 0, -1 */
static int sd_proto(PyObject *fields, PyObject *proto) {
    const char *ps = PyUnicode_DATA(proto);
    Py_ssize_t p0 = 0, p1 = PyUnicode_GET_LENGTH(proto);
    while (p0 < p1 && ps[p0] == ' ') p0++;
    while (p1 > p0 && ps[p1 - 1] == ' ') p1--;
    PyObject *t;
    if (p1 == p0) {
        t = Py_NewRef(Py_None);
    } else {
        char buf[64];
        PyObject *low;
        if (p1 - p0 <= (Py_ssize_t)sizeof buf) {
            for (Py_ssize_t q = p0; q < p1; q++) buf[q - p0] = upc(ps[q]) ? (char)(ps[q] + 32) : ps[q];
            low = ascii_sub(buf, 0, p1 - p0);
        } else {
            PyObject *sub = PyUnicode_Substring(proto, p0, p1);
            low = sub != NULL ? PyObject_CallMethod(sub, "lower", NULL) : NULL;
            Py_XDECREF(sub);
        }
        if (low == NULL) return -1;
        t = PyDict_GetItemWithError(PROTO_MAP, low);
        if (t == NULL && PyErr_Occurred()) {
            Py_DECREF(low);
            return -1;
        }
        if (t != NULL) {
            Py_DECREF(low);
            t = Py_NewRef(t);
        } else {
            t = low;
        }
    }
    return lput(fields, L_NETWORK_PROTOCOL, t);
}

/* fields[name] = to_int(v) for an int name (v borrowed): 1, 0 (not decided here), -1 */
static int sd_put_int(PyObject *fields, PyObject *name, PyObject *v) {
    PyObject *iv;
    int got = sd_int(v, &iv);
    if (got <= 0) return got;
    int rc = PyDict_SetItem(fields, name, iv);
    Py_DECREF(iv);
    return rc < 0 ? -1 : 1;
}

/* juniper._structured(sd, fields) on m[a:b] through a dict of the pairs (any structured data,
 * duplicated keys too): 1, 0 (not decided here), -1 */
static int junos_sd(PyObject *fields, const char *m, Py_ssize_t a, Py_ssize_t b) {
    const char *s = m + a;
    Py_ssize_t n = b - a, i = 0, q0, q1, v0, v1;
    PyObject *kv = PyDict_New(), *k, *v;
    if (kv == NULL) return -1;
    while (kv_next(s, n, 0, &i, &q0, &q1, &v0, &v1)) {
        PyObject *key = ascii_sub(s, q0, q1);
        if (key == NULL || set_pair(kv, key, kv_value(s, v0, v1)) < 0) goto fail;
    }
    Py_ssize_t pos = 0;
    while (PyDict_Next(kv, &pos, &k, &v)) {
        PyObject *name = PyDict_GetItemWithError(SD_MAP, k);
        if (name == NULL) {
            if (PyErr_Occurred()) goto fail;
            PyObject *jk = PyUnicode_FromFormat("junos.%U", k);
            if (jk == NULL || set_pair(fields, jk, Py_NewRef(v)) < 0) goto fail;
            continue;
        }
        Py_ssize_t vn = PyUnicode_GET_LENGTH(v);
        if (vn == 0 || (vn == 3 && memcmp(PyUnicode_DATA(v), "N/A", 3) == 0)) continue;
        if (name == LS[L_SRC_PORT] || name == LS[L_DST_PORT] || name == LS[L_SOURCE_BYTES] ||
            name == LS[L_DESTINATION_BYTES]) {
            int got = sd_put_int(fields, name, v);
            if (got <= 0) {
                Py_DECREF(kv);
                return got;
            }
        } else if (PyDict_SetItem(fields, name, v) < 0) {
            goto fail;
        }
    }
    PyObject *proto = PyDict_GetItemWithError(kv, PROTO_ID);
    if ((proto == NULL && PyErr_Occurred()) || (proto != NULL && sd_proto(fields, proto) < 0)) goto fail;
    Py_DECREF(kv);
    return 1;
fail:
    Py_DECREF(kv);
    return -1;
}

/* The structured keys met, each with its field name: `junos.<key>` (kind SD_OTHER; SD_PROTO for
 * protocol-id, whose value also gives network_protocol) or _SD_FIELDS' name (SD_NAME, SD_INT for
 * the ports and byte counts), and the last line that had it (stamp). Open addressing, at most 8
 * probes; a key that finds no slot (more than ~1000 distinct keys met) goes the dict's way. Why:
 * an RT_FLOW_SESSION_CLOSE carries ~50 pairs, and the dict of them, the `junos.` names made
 * and hashed again per pair and the fields dict grown step by step were ~45k instructions. */
enum { SD_OTHER, SD_PROTO, SD_NAME, SD_INT };
#define SD_SLOTS 1024
typedef struct {
    PyObject *raw, *name;
    unsigned stamp;
    int kind;
} sd_slot;
static sd_slot SD_CACHE[SD_SLOTS];
static unsigned SD_STAMP;

static sd_slot *sd_slot_of(const char *k, Py_ssize_t kn) {
    if (kn > 200 || kn < 1) return NULL;
    /* (a few characters hashed: the probes and memcmp settle the rest) */
    unsigned h = ((unsigned)kn * 2654435761u) ^ ((unsigned char)k[0] * 31u) ^ ((unsigned char)k[kn / 2] * 977u) ^
                 ((unsigned char)k[kn - 1] * 7919u) ^ ((unsigned char)k[(kn * 3) / 4] * 131u);
    h ^= h >> 13;
    for (unsigned probe = 0; probe < 8; probe++) {
        sd_slot *sl = &SD_CACHE[(h + probe) & (SD_SLOTS - 1)];
        if (sl->raw == NULL) {
            PyObject *raw = PyUnicode_New(kn, 127), *name;
            if (raw == NULL) return NULL;
            memcpy(PyUnicode_DATA(raw), k, (size_t)kn);
            name = PyDict_GetItemWithError(SD_MAP, raw);
            int kind = SD_NAME;
            if (name != NULL) {
                Py_INCREF(name);
                if (name == LS[L_SRC_PORT] || name == LS[L_DST_PORT] || name == LS[L_SOURCE_BYTES] ||
                    name == LS[L_DESTINATION_BYTES])
                    kind = SD_INT;
            } else if (!PyErr_Occurred()) {
                name = PyUnicode_FromFormat("junos.%U", raw);
                if (name != NULL) PyUnicode_InternInPlace(&name);
                kind = PyUnicode_CompareWithASCIIString(raw, "protocol-id") == 0 ? SD_PROTO : SD_OTHER;
            }
            if (name == NULL) {
                Py_DECREF(raw);
                return NULL;
            }
            sl->raw = raw, sl->name = name, sl->kind = kind, sl->stamp = 0;
            return sl;
        }
        if (PyUnicode_GET_LENGTH(sl->raw) == kn && memcmp(PyUnicode_DATA(sl->raw), k, (size_t)kn) == 0) return sl;
    }
    return NULL;
}

/* kv_next (comma 0) on printable ASCII s[0:n] by its `=` signs: the key is the run of key
 * characters ending at one (it must start where kv_next starts a key), the value found with
 * memchr; 1 (a pair), 0 (no more), -1 (a quoted value with a `\\`: kv_next's own walk decides) */
static int sd_next(const char *s, Py_ssize_t n, Py_ssize_t *i, Py_ssize_t *q0, Py_ssize_t *q1, Py_ssize_t *v0,
                   Py_ssize_t *v1) {
    Py_ssize_t at = *i;
    while (at < n) {
        const char *eq = memchr(s + at, '=', (size_t)(n - at));
        if (eq == NULL) break;
        Py_ssize_t e = eq - s, ks = e;
        while (ks > at && is_key_char((unsigned char)s[ks - 1])) ks--;
        if (ks == e || !(KV_CLASS[(unsigned char)s[ks]] & KC_START) || (ks > 0 && is_key_char((unsigned char)s[ks - 1]))) {
            at = e + 1;
            continue;
        }
        Py_ssize_t a = e + 1, b = -1;
        if (a < n && s[a] == '"') {
            const char *q = memchr(s + a + 1, '"', (size_t)(n - a - 1));
            Py_ssize_t qe = q != NULL ? q - s : n;
            if (memchr(s + a + 1, '\\', (size_t)(qe - a - 1)) != NULL) return -1;
            if (q != NULL) b = qe + 1;
        }
        if (b < 0) {
            const char *sp = memchr(s + a, ' ', (size_t)(n - a));
            b = sp != NULL ? sp - s : n;
        }
        *q0 = ks, *q1 = e, *v0 = a, *v1 = b, *i = b;
        return 1;
    }
    *i = n;
    return 0;
}

/* junos_sd for structured data whose keys are all distinct (the dict's order is then the
 * pairs' order) and met before: 1, 0 (not decided here), 2 (junos_sd decides), -1 */
#define SD_MAX_PAIRS 256
static int junos_sd_fast(PyObject *fields, const char *m, Py_ssize_t a, Py_ssize_t b) {
    const char *s = m + a;
    Py_ssize_t n = b - a, i = 0, q0, q1, v0, v1, vr[SD_MAX_PAIRS][2];
    sd_slot *slots[SD_MAX_PAIRS];
    int np = 0;
    unsigned stamp = ++SD_STAMP;
    if (stamp == 0) stamp = ++SD_STAMP;
    int got;
    while ((got = sd_next(s, n, &i, &q0, &q1, &v0, &v1)) != 0) {
        if (got < 0 || np == SD_MAX_PAIRS) return 2;
        sd_slot *sl = sd_slot_of(s + q0, q1 - q0);
        if (sl == NULL) return PyErr_Occurred() ? -1 : 2;
        if (sl->stamp == stamp) return 2; /* a key seen twice: the dict's reading */
        sl->stamp = stamp;
        slots[np] = sl, vr[np][0] = v0, vr[np][1] = v1, np++;
    }
    PyObject *proto = NULL;
    for (int k = 0; k < np; k++) {
        PyObject *v = kv_value(s, vr[k][0], vr[k][1]);
        if (v == NULL) return -1;
        int kind = slots[k]->kind, rc = 0;
        if (kind == SD_NAME || kind == SD_INT) {
            Py_ssize_t vn = PyUnicode_GET_LENGTH(v);
            if (vn == 0 || (vn == 3 && memcmp(PyUnicode_DATA(v), "N/A", 3) == 0)) {
                Py_DECREF(v);
                continue;
            }
            rc = kind == SD_INT ? sd_put_int(fields, slots[k]->name, v) : PyDict_SetItem(fields, slots[k]->name, v);
            if (kind == SD_INT && rc >= 0) rc = rc == 1 ? 0 : 1; /* (0: not decided: returned below) */
        } else {
            rc = PyDict_SetItem(fields, slots[k]->name, v);
            if (kind == SD_PROTO && rc == 0) Py_XSETREF(proto, Py_NewRef(v));
        }
        Py_DECREF(v);
        if (rc != 0) {
            Py_XDECREF(proto);
            return rc < 0 ? -1 : 0;
        }
    }
    int rc = proto != NULL ? sd_proto(fields, proto) : 0;
    Py_XDECREF(proto);
    return rc < 0 ? -1 : 1;
}

/* transport() of a protocol token m[a:b] that is digits or a name: IANA's name, else lower case */
static PyObject *proto_of(const char *m, Py_ssize_t a, Py_ssize_t b) {
    char buf[64];
    if (b - a > (Py_ssize_t)sizeof buf) {
        PyObject *sub = ascii_sub(m, a, b);
        if (sub == NULL) return NULL;
        PyObject *low = PyObject_CallMethod(sub, "lower", NULL);
        Py_DECREF(sub);
        return low;
    }
    for (Py_ssize_t q = a; q < b; q++) buf[q - a] = upc(m[q]) ? (char)(m[q] + 32) : m[q];
    PyObject *low = ascii_sub(buf, 0, b - a);
    if (low == NULL) return NULL;
    PyObject *t = PyDict_GetItemWithError(PROTO_MAP, low);
    if (t == NULL) return PyErr_Occurred() ? (Py_DECREF(low), NULL) : low;
    Py_DECREF(low);
    return Py_NewRef(t);
}

/* _FLOW's search in m[a:b]: 1 with the ranges g[0..17] (9 groups), 0 */
static int flow_at(const char *m, Py_ssize_t p, Py_ssize_t b, Py_ssize_t *g) {
    Py_ssize_t i = p;
    for (int part = 0; part < 2; part++) {
        /* IP/\d+->IP/\d+ */
        for (int side = 0; side < 2; side++) {
            Py_ssize_t e = i;
            while (e < b && (hexc(m[e]) || m[e] == ':' || m[e] == '.')) e++;
            if (e == i || e >= b || m[e] != '/' || !ip_full(m, i, e)) return 0;
            Py_ssize_t d = digits_end(m, e + 1, b);
            if (d == e + 1) return 0;
            int k = part == 0 ? side * 4 : 10 + side * 4;
            g[k] = i, g[k + 1] = e, g[k + 2] = e + 1, g[k + 3] = d;
            i = d;
            if (side == 0) {
                if (!AT(m, i, b, "->")) return 0;
                i += 2;
            }
        }
        if (part == 0) { /* ` \S+ (?P<svc>\S+) ` */
            if (i >= b || m[i] != ' ') return 0;
            Py_ssize_t e = nonspace_end(m, i + 1, b);
            if (e == i + 1 || e >= b) return 0;
            Py_ssize_t s0 = e + 1, s1 = nonspace_end(m, s0, b);
            if (s1 == s0 || s1 >= b) return 0;
            g[8] = s0, g[9] = s1;
            i = s1 + 1;
        }
    }
    g[18] = i; /* the match's end */
    return 1;
}

/* juniper._flow(tag, text, fields) for the text m[a:b] (close: the tag ends with CLOSE) */
static int junos_flow(PyObject *fields, const char *m, Py_ssize_t a, Py_ssize_t b, int close) {
    Py_ssize_t g[19];
    int found = 0;
    if (FIND(m, a, b, "->") < 0) return 0;
    for (Py_ssize_t p = a; p < b && !found; p++)
        if (hexc(m[p]) || m[p] == ':') found = flow_at(m, p, b, g);
    if (!found) return 0;
    if (lsub(fields, L_SRC_IP, m, g[0], g[1]) < 0 || lput(fields, L_SRC_PORT, digits_of(m, g[2], g[3])) < 0 ||
        lsub(fields, L_DST_IP, m, g[4], g[5]) < 0 || lput(fields, L_DST_PORT, digits_of(m, g[6], g[7])) < 0 ||
        lsub(fields, L_SERVICE_NAME, m, g[8], g[9]) < 0 || lsub(fields, L_SNAT_IP, m, g[10], g[11]) < 0 ||
        lput(fields, L_SNAT_PORT, digits_of(m, g[12], g[13])) < 0 || lsub(fields, L_DNAT_IP, m, g[14], g[15]) < 0 ||
        lput(fields, L_DNAT_PORT, digits_of(m, g[16], g[17])) < 0)
        return -1;
    /* _FLOW_TAIL.search(text, m.end()) */
    for (Py_ssize_t q = FIND(m, g[18], b, " "); q >= 0; q = FIND(m, q + 1, b, " ")) {
        Py_ssize_t p0 = q + 1, p1 = digits_end(m, p0, b);
        if (p1 == p0 || p1 - p0 > 3 || p1 >= b || m[p1] != ' ') continue;
        Py_ssize_t r[6], i = p1 + 1, ok = 1;
        for (int k = 0; k < 3 && ok; k++) {
            Py_ssize_t e = nonspace_end(m, i, b);
            if (e == i || e >= b) ok = 0;
            r[2 * k] = i, r[2 * k + 1] = e, i = e + 1;
        }
        if (!ok) continue;
        Py_ssize_t sid1 = digits_end(m, i, b);
        if (sid1 == i) continue;
        if (lput(fields, L_NETWORK_PROTOCOL, proto_of(m, p0, p1)) < 0 || lsub(fields, L_POLICY, m, r[0], r[1]) < 0 ||
            lsub(fields, L_SRC_ZONE, m, r[2], r[3]) < 0 || lsub(fields, L_DST_ZONE, m, r[4], r[5]) < 0 ||
            lsub(fields, L_SESSION_ID, m, i, sid1) < 0)
            return -1;
        /* (?: (?P<pin>\d+)\((?P<bin>\d+)\) (?P<pout>\d+)\((?P<bout>\d+)\))? */
        Py_ssize_t j = sid1, bin0 = -1, bin1 = -1, bout0 = -1, bout1 = -1;
        int have = 0;
        if (j < b && m[j] == ' ') {
            Py_ssize_t x = digits_end(m, j + 1, b);
            if (x > j + 1 && x < b && m[x] == '(') {
                Py_ssize_t y = digits_end(m, x + 1, b);
                if (y > x + 1 && AT(m, y, b, ") ")) {
                    Py_ssize_t z = digits_end(m, y + 2, b);
                    if (z > y + 2 && z < b && m[z] == '(') {
                        Py_ssize_t w = digits_end(m, z + 1, b);
                        if (w > z + 1 && w < b && m[w] == ')')
                            have = 1, bin0 = x + 1, bin1 = y, bout0 = z + 1, bout1 = w;
                    }
                }
            }
        }
        if (have && close &&
            (lput(fields, L_SOURCE_BYTES, digits_of(m, bin0, bin1)) < 0 ||
             lput(fields, L_DESTINATION_BYTES, digits_of(m, bout0, bout1)) < 0))
            return -1;
        break;
    }
    /* _CLOSE_REASON.search(text) */
    for (Py_ssize_t q = FIND(m, a, b, "session closed "); q >= 0; q = FIND(m, q + 1, b, "session closed ")) {
        Py_ssize_t r0 = q + 15;
        const char *c = memchr(m + r0, ':', (size_t)(b - r0));
        if (c == NULL) break;
        if (c - m == r0) continue;
        if (lsub(fields, L_REASON, m, r0, c - m) < 0) return -1;
        break;
    }
    return 0;
}

/* parse_junos' `user`, `src_ip` (ssh-connection, from host) of the text m[a:b] */
static int junos_tail(PyObject *fields, const char *m, Py_ssize_t a, Py_ssize_t b) {
    for (Py_ssize_t q = FIND(m, a, b, "ser '"); q >= 0; q = FIND(m, q + 1, b, "ser '")) {
        if (q == a || (m[q - 1] != 'u' && m[q - 1] != 'U')) continue;
        const char *c = memchr(m + q + 5, '\'', (size_t)(b - q - 5));
        if (c == NULL) break;
        int has = PyDict_Contains(fields, LS[L_USER]);
        if (has < 0 || (!has && lsub(fields, L_USER, m, q + 5, c - m) < 0)) return -1;
        break;
    }
    int has = PyDict_Contains(fields, LS[L_SRC_IP]);
    if (has) return has < 0 ? -1 : 0;
    for (Py_ssize_t q = FIND(m, a, b, "ssh-connection '"); q >= 0; q = FIND(m, q + 1, b, "ssh-connection '")) {
        Py_ssize_t s0 = q + 16, s1 = nonspace_end(m, s0, b);
        if (s1 >= b || !ip_full(m, s0, s1)) continue;
        Py_ssize_t p0 = s1 + 1, p1 = digits_end(m, p0, b);
        if (p1 == p0 || p1 >= b || m[p1] != ' ') continue;
        Py_ssize_t d0 = p1 + 1, d1 = nonspace_end(m, d0, b);
        if (d1 >= b || !ip_full(m, d0, d1)) continue;
        Py_ssize_t e0 = d1 + 1, e1 = digits_end(m, e0, b);
        if (e1 == e0 || e1 >= b || m[e1] != '\'') continue;
        if (lsub(fields, L_SRC_IP, m, s0, s1) < 0 || lput(fields, L_SRC_PORT, digits_of(m, p0, p1)) < 0 ||
            lsub(fields, L_DST_IP, m, d0, d1) < 0 || lput(fields, L_DST_PORT, digits_of(m, e0, e1)) < 0)
            return -1;
        return 0;
    }
    for (Py_ssize_t q = FIND(m, a, b, "from "); q >= 0; q = FIND(m, q + 1, b, "from ")) {
        Py_ssize_t i = q + 5;
        if (AT(m, i, b, "host '")) {
            const char *c = memchr(m + i + 6, '\'', (size_t)(b - i - 6));
            if (c != NULL) {
                if (c - m == i + 6) return PyDict_SetItem(fields, LS[L_SRC_HOST], Py_None);
                Py_ssize_t x = i + 6, y = c - m;
                return lsub(fields, base_is_ip(m, x, y) ? L_SRC_IP : L_SRC_HOST, m, x, y);
            }
        }
        Py_ssize_t e = ip_prefix(m, i, b);
        if (e < 0) continue;
        return lsub(fields, base_is_ip(m, i, e) ? L_SRC_IP : L_SRC_HOST, m, i, e);
    }
    return 0;
}

/* _parse_fw on t[0:n] (`FW: ...`, the message `mo`): fields, or None (Python decides) */
static PyObject *junos_fw(PyObject *mo, const char *t, Py_ssize_t n) {
    Py_ssize_t i0 = 4, i1 = nonspace_end(t, 4, n);
    if (i1 == i0) Py_RETURN_NONE;
    Py_ssize_t j = i1;
    while (j < n && t[j] == ' ') j++;
    if (j == i1 || j + 1 >= n || (t[j] != 'A' && t[j] != 'D' && t[j] != 'R') || t[j + 1] != ' ') Py_RETURN_NONE;
    char act = t[j];
    Py_ssize_t g[12];
    int found = 0;
    for (Py_ssize_t q = j + 2; q < n && !found; q++) { /* .*? then \b[A-Za-z][\w-]* */
        char c = t[q];
        if (!((c >= 'a' && c <= 'z') || upc(c)) || is_word((unsigned char)t[q - 1])) continue;
        Py_ssize_t e = q + 1;
        while (e < n && (is_word((unsigned char)t[e]) || t[e] == '-')) e++;
        if (e >= n || t[e] != ' ') continue;
        Py_ssize_t s0 = e + 1, s1 = nonspace_end(t, s0, n);
        if (s1 >= n || !ip_full(t, s0, s1)) continue;
        Py_ssize_t d0 = s1 + 1, d1 = nonspace_end(t, d0, n);
        if (d1 >= n || !ip_full(t, d0, d1)) continue;
        Py_ssize_t k = d1;
        while (k < n && t[k] == ' ') k++;
        Py_ssize_t sp0 = k, sp1 = digits_end(t, k, n);
        if (sp1 == sp0 || sp1 >= n || t[sp1] != ' ') continue;
        k = sp1;
        while (k < n && t[k] == ' ') k++;
        Py_ssize_t dp0 = k, dp1 = digits_end(t, k, n);
        if (dp1 == dp0 || !AT(t, dp1, n, " (")) continue;
        Py_ssize_t pk0 = dp1 + 2, pk1 = digits_end(t, pk0, n);
        if (pk1 == pk0 || !AT(t, pk1, n, " packet")) continue;
        Py_ssize_t z = pk1 + 7;
        if (z < n && t[z] == 's') z++;
        if (z >= n || t[z] != ')') continue;
        g[0] = q, g[1] = e, g[2] = s0, g[3] = s1, g[4] = d0, g[5] = d1, g[6] = sp0, g[7] = sp1, g[8] = dp0,
        g[9] = dp1, g[10] = pk0, g[11] = pk1;
        found = 1;
    }
    if (!found) Py_RETURN_NONE;
    PyObject *f = PyDict_New();
    int a = act == 'A' ? L_ACCEPT : act == 'D' ? L_DISCARD : L_REJECT;
    if (f == NULL || lconst(f, L_EVENT_ID, L_FW) < 0 || lsub(f, L_INTERFACE, t, i0, i1) < 0 ||
        lsub(f, L_IN_INTERFACE, t, i0, i1) < 0 || lconst(f, L_ACTION, a) < 0 ||
        lconst(f, L_BLOCKED, a == L_ACCEPT ? L_FALSE : L_TRUE) < 0 ||
        lput(f, L_NETWORK_PROTOCOL, proto_of(t, g[0], g[1])) < 0 || lsub(f, L_SRC_IP, t, g[2], g[3]) < 0 ||
        lsub(f, L_DST_IP, t, g[4], g[5]) < 0 || lput(f, L_SRC_PORT, digits_of(t, g[6], g[7])) < 0 ||
        lput(f, L_DST_PORT, digits_of(t, g[8], g[9])) < 0 || lput(f, L_PACKETS, digits_of(t, g[10], g[11])) < 0 ||
        PyDict_SetItem(f, LS[L_MESSAGE], mo) < 0) {
        Py_XDECREF(f);
        return NULL;
    }
    return f;
}

/* _RSHD.match on m[0:len]: fields, or None (Python decides) */
static PyObject *junos_rshd(PyObject *msg, const char *m, Py_ssize_t len) {
    Py_ssize_t r1 = 0;
    while (r1 < len && m[r1] != '@' && m[r1] != ' ') r1++;
    if (r1 == 0 || r1 >= len || m[r1] != '@') Py_RETURN_NONE;
    Py_ssize_t i0 = r1 + 1, i1 = nonspace_end(m, i0, len);
    if (!ip_full(m, i0, i1) || !AT(m, i1, len, " as ")) Py_RETURN_NONE;
    Py_ssize_t u0 = i1 + 4, r = nonspace_end(m, u0, len);
    if (r - u0 < 2 || m[r - 1] != ':' || !AT(m, r, len, " cmd='")) Py_RETURN_NONE;
    Py_ssize_t c0 = r + 6, c1 = len;
    while (c1 > c0 && m[c1 - 1] != '\'') c1--;
    if (c1 == c0) Py_RETURN_NONE;
    c1--;
    PyObject *f = PyDict_New();
    if (f == NULL || PyDict_SetItem(f, LS[L_EVENT_TYPE], LS[L_RSHD_COMMAND]) < 0 ||
        lsub(f, L_USER, m, u0, r - 1) < 0 || lsub(f, L_SRC_USER, m, 0, r1) < 0 || lsub(f, L_SRC_IP, m, i0, i1) < 0 ||
        lsub(f, L_COMMAND, m, c0, c1) < 0 || PyDict_SetItem(f, LS[L_MESSAGE], msg) < 0) {
        Py_XDECREF(f);
        return NULL;
    }
    return f;
}

/* parse_junos of the body m[0:len] (msg) under app: fields (*svc, *fw set), None (Python
 * decides) or False (parse_junos refuses: None) */
static PyObject *junos_fields(PyObject *msg, const char *m, Py_ssize_t len, const char *app, Py_ssize_t an, int *svc,
                              int *fw) {
    Py_ssize_t tg0 = 0, tg1 = tag_end(m, len), t0 = -1, sd0 = -1, sd1 = -1;
    const char *tag = m;
    if (tg1 > 0 && tg1 + 1 < len && m[tg1] == ':' && m[tg1 + 1] == ' ') {
        t0 = tg1 + 2;
    } else if (tg1 > 0 && tg1 + 1 < len && m[tg1] == ' ' && m[tg1 + 1] == '[') {
        const char *rb = memchr(m + tg1 + 2, ']', (size_t)(len - tg1 - 2));
        if (rb != NULL) {
            sd0 = tg1 + 2, sd1 = rb - m, t0 = sd1 + 1;
            while (t0 < len && m[t0] == ' ') t0++;
        }
    }
    *fw = 0, *svc = JS_SYSLOG;
    if (t0 < 0) {
        if (an > 0 && tag_end(app, an) == an) {
            tag = app, tg1 = an, t0 = 0;
        } else if (AT(m, 0, len, "FW: ") || (an == 2 && memcmp(app, "FW", 2) == 0)) {
            *fw = 1;
            if (AT(m, 0, len, "FW: ")) return junos_fw(msg, m, len);
            PyObject *mo = PyUnicode_New(len + 4, 127);
            if (mo == NULL) return NULL;
            memcpy(PyUnicode_DATA(mo), "FW: ", 4);
            memcpy((char *)PyUnicode_DATA(mo) + 4, m, (size_t)len);
            PyObject *f = junos_fw(mo, PyUnicode_DATA(mo), len + 4);
            Py_DECREF(mo);
            return f;
        } else if (an == 4 && memcmp(app, "rshd", 4) == 0) {
            *svc = JS_AAA;
            return junos_rshd(msg, m, len);
        } else {
            Py_RETURN_FALSE;
        }
    }
    Py_ssize_t tn = tg1 - tg0;
#define TAG_STARTS(lit) (tn >= (Py_ssize_t)sizeof(lit) - 1 && memcmp(tag, lit, sizeof(lit) - 1) == 0)
#define TAG_ENDS(lit) (tn >= (Py_ssize_t)sizeof(lit) - 1 && memcmp(tag + tn - (sizeof(lit) - 1), lit, sizeof(lit) - 1) == 0)
    int flow = TAG_STARTS("RT_FLOW_SESSION");
    int screen = !flow && (TAG_STARTS("RT_SCREEN") || TAG_STARTS("RT_IDS") || TAG_STARTS("RT_IDP"));
    if (screen && sd0 < 0) Py_RETURN_NONE;  /* the text screens: Python */
    if (TAG_STARTS("SNMP_TRAP_LINK_")) Py_RETURN_NONE;
    PyObject *f = sd0 >= 0 ? dict_sized(count_char(m + sd0, sd1 - sd0, '=') + 8) : PyDict_New();
    if (f == NULL || lsub(f, L_EVENT_ID, tag, 0, tn) < 0 ||
        lput(f, L_MESSAGE, t0 == 0 ? Py_NewRef(msg) : ascii_sub(m, t0, len)) < 0)
        goto fail;
    if (sd0 >= 0) {
        int got = junos_sd_fast(f, m, sd0, sd1);
        if (got == 2) got = junos_sd(f, m, sd0, sd1);
        if (got < 0) goto fail;
        if (got == 0) {
            Py_DECREF(f);
            Py_RETURN_NONE;
        }
    }
    if (flow) {
        if (sd0 < 0 && junos_flow(f, m, t0, len, TAG_ENDS("CLOSE")) < 0) goto fail;
        *fw = 1;
        int denied = TAG_ENDS("DENY") || TAG_ENDS("REJECT");
        int has = PyDict_Contains(f, LS[L_ACTION]);
        if (has < 0 || (!has && lconst(f, L_ACTION, denied ? L_DENY : L_PERMIT) < 0) ||
            lconst(f, L_BLOCKED, denied ? L_TRUE : L_FALSE) < 0)
            goto fail;
    } else if (screen) {
        *fw = 1;
    }
    if (junos_tail(f, m, t0, len) < 0) goto fail;
    if (TAG_STARTS("BGP_") || TAG_STARTS("RPD_") || (an == 3 && memcmp(app, "rpd", 3) == 0)) {
        *svc = JS_BGP;
    } else if (TAG_STARTS("UI_") || TAG_STARTS("SSHD_") || TAG_STARTS("LOGIN_")) {
        *svc = JS_AAA;
        if (lx_find(tag, 0, tn, "FAIL", 4) >= 0 && lconst(f, L_OUTCOME, L_FAILURE) < 0) goto fail;
    }
#undef TAG_STARTS
#undef TAG_ENDS
    return f;
fail:
    Py_XDECREF(f);
    return NULL;
}

/* ---- the dispatch ----------------------------------------------------------------------------- */

static int words_init(lx_words *w, PyObject *t) {
    if (!PyTuple_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "lx: markers and prefixes are tuples of str");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    if (n > 60000) {
        PyErr_SetString(PyExc_ValueError, "lx: too many markers");
        return -1;
    }
    unsigned short count[256] = {0};
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *s = PyTuple_GET_ITEM(t, k);
        if (!PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s) || PyUnicode_GET_LENGTH(s) == 0) {
            PyErr_SetString(PyExc_TypeError, "lx: markers and prefixes are non-empty ASCII str");
            return -1;
        }
        count[((unsigned char *)PyUnicode_DATA(s))[0]]++;
    }
    w->idx = PyMem_Malloc(sizeof(unsigned short) * (size_t)(n > 0 ? n : 1));
    if (w->idx == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    w->start[0] = 0;
    for (int c = 0; c < 256; c++) w->start[c + 1] = (unsigned short)(w->start[c] + count[c]);
    unsigned short fill[256] = {0};
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned char c = ((unsigned char *)PyUnicode_DATA(PyTuple_GET_ITEM(t, k)))[0];
        w->idx[w->start[c] + fill[c]++] = (unsigned short)k;
    }
    w->words = Py_NewRef(t);
    return 0;
}

static void words_clear(lx_words *w) {
    Py_CLEAR(w->words);
    PyMem_Free(w->idx);
    w->idx = NULL;
}

/* one of the words at m[i:] (start: i == 0 only, a prefix) */
static inline int word_at(const lx_words *w, const char *m, Py_ssize_t i, Py_ssize_t n) {
    unsigned char c = (unsigned char)m[i];
    for (unsigned j = w->start[c]; j < w->start[c + 1]; j++) {
        PyObject *x = PyTuple_GET_ITEM(w->words, w->idx[j]);
        Py_ssize_t xn = PyUnicode_GET_LENGTH(x);
        if (xn <= n - i && memcmp(m + i, PyUnicode_DATA(x), (size_t)xn) == 0) return 1;
    }
    return 0;
}

static int any_in(const lx_words *w, const char *m, Py_ssize_t n) {
    if (w->words == NULL || PyTuple_GET_SIZE(w->words) == 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (w->start[(unsigned char)m[i]] != w->start[(unsigned char)m[i] + 1] && word_at(w, m, i, n)) return 1;
    return 0;
}

static inline int starts_any(const lx_words *w, const char *m, Py_ssize_t n) {
    return w->words != NULL && n > 0 && word_at(w, m, 0, n);
}

int lx_plan_init(lx_plan *p, PyObject *cfg) {
    lx_plan_clear(p);
    if (cfg == NULL || cfg == Py_None) return 0;
    /* (programs, pam: (ahead, ahead prefixes, own markers, own prefixes) | None,
     *  generic: (every marker, every prefix) | None, junos: bool) */
    PyObject *programs, *pam, *generic;
    int junos;
    if (!PyArg_ParseTuple(cfg, "O!OOp:lx", &PyDict_Type, &programs, &pam, &generic, &junos)) return -1;
    if (pam != Py_None) {
        PyObject *a, *b, *c, *d;
        if (!PyArg_ParseTuple(pam, "OOOO:lx pam", &a, &b, &c, &d) || words_init(&p->pam_ahead, a) < 0 ||
            words_init(&p->pam_prefixes, b) < 0 || words_init(&p->pam_own, c) < 0 ||
            words_init(&p->pam_own_prefixes, d) < 0)
            goto fail;
        p->pam = 1;
    }
    if (generic != Py_None) {
        PyObject *a, *b;
        if (!PyArg_ParseTuple(generic, "OO:lx generic", &a, &b) || words_init(&p->all_markers, a) < 0 ||
            words_init(&p->all_prefixes, b) < 0)
            goto fail;
        p->generic = 1;
    }
    p->junos = junos;
    p->programs = Py_NewRef(programs);
    return 0;
fail:
    lx_plan_clear(p);
    return -1;
}

void lx_plan_clear(lx_plan *p) {
    Py_CLEAR(p->programs);
    lx_words *all[6] = {&p->pam_ahead, &p->pam_prefixes, &p->pam_own, &p->pam_own_prefixes, &p->all_markers,
                        &p->all_prefixes};
    for (int k = 0; k < 6; k++) words_clear(all[k]);
    Py_CLEAR(p->cache_app);
    Py_CLEAR(p->cache_svc);
    Py_CLEAR(p->cache_key);
    Py_CLEAR(p->gen_app);
    Py_CLEAR(p->gen_svc);
    Py_CLEAR(p->gen_key);
    p->pam = p->generic = p->junos = 0;
}

/* parse_sshd's refusal: `pam_` in its first 40 characters, `PAM `/` PAM `, a Junos tag */
static int sshd_refuses(const char *m, Py_ssize_t len) {
    if (FIND(m, 0, len < 40 ? len : 40, "pam_") >= 0 || AT(m, 0, len, "PAM ") || AT(m, 0, len, " PAM ")) return 1;
    Py_ssize_t k = tag_end(m, len);
    return k > 0 && AT(m, k, len, ": ");
}

/* app.lower() of ASCII a[0:n] as a str */
static PyObject *lower_of(const char *a, Py_ssize_t n) {
    char buf[128];
    if (n > (Py_ssize_t)sizeof buf) {
        PyObject *s = ascii_sub(a, 0, n);
        if (s == NULL) return NULL;
        PyObject *l = PyObject_CallMethod(s, "lower", NULL);
        Py_DECREF(s);
        return l;
    }
    for (Py_ssize_t k = 0; k < n; k++) buf[k] = upc(a[k]) ? (char)(a[k] + 32) : a[k];
    return ascii_sub(buf, 0, n);
}

/* services (svc, [auth,] syslog) of app, and their route key with product, cached for the last app */
static int app_services(PyObject *app, const char *a, Py_ssize_t an, int auth, PyObject **cache_app,
                        PyObject **cache_svc, PyObject **cache_key, PyObject *product) {
    if (*cache_app != NULL && (*cache_app == app || PyUnicode_Compare(*cache_app, app) == 0)) return 0;
    if (PyErr_Occurred()) return -1;
    PyObject *svc = lower_of(a, an), *t;
    if (svc == NULL) return -1;
    if (auth)
        t = PyUnicode_CompareWithASCIIString(svc, "auth") == 0 ? PyTuple_Pack(2, LS[L_AUTH], LS[L_SYSLOG])
                                                              : PyTuple_Pack(3, svc, LS[L_AUTH], LS[L_SYSLOG]);
    else
        t = PyUnicode_CompareWithASCIIString(svc, "syslog") == 0 ? PyTuple_Pack(1, LS[L_SYSLOG])
                                                                : PyTuple_Pack(2, svc, LS[L_SYSLOG]);
    Py_DECREF(svc);
    if (t == NULL) return -1;
    PyObject *key = PyTuple_Pack(3, product, t, EMPTY_T);
    if (key == NULL) {
        Py_DECREF(t);
        return -1;
    }
    Py_XSETREF(*cache_app, Py_NewRef(app));
    Py_XSETREF(*cache_svc, t);
    Py_XSETREF(*cache_key, key);
    return 0;
}

PyObject *lx_read(lx_plan *p, PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n, Py_ssize_t a0,
                  Py_ssize_t a1) {
    if (p->programs == NULL || a1 <= a0) Py_RETURN_NONE;
    const char *m = s + off, *app = s + a0;
    Py_ssize_t len = n - off, an = a1 - a0;
    PyObject *appo = ascii_sub(s, a0, a1), *msg = NULL, *f = NULL, *out = NULL;
    if (appo == NULL) return NULL;
    PyObject *codes = PyDict_GetItemWithError(p->programs, appo);
    if (codes == NULL && !PyErr_Occurred()) {
        PyObject *low = lower_of(app, an);
        if (low == NULL) goto done;
        codes = PyDict_GetItemWithError(p->programs, low);
        Py_DECREF(low);
    }
    if (codes == NULL && PyErr_Occurred()) goto done;
    if (codes == Py_None || (codes != NULL && !PyTuple_Check(codes))) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if ((msg = PyUnicode_Substring(line, off, n)) == NULL) goto done;
    for (Py_ssize_t k = 0; codes != NULL && k < PyTuple_GET_SIZE(codes); k++) {
        long code = PyLong_AsLong(PyTuple_GET_ITEM(codes, k));
        if (code == LX_SSHD && sshd_refuses(m, len)) continue;
        if (code == LX_JUNOS && p->junos) {
            int svc, fw;
            f = junos_fields(msg, m, len, app, an, &svc, &fw);
            if (f == NULL) goto done;
            if (f == Py_False) {
                Py_CLEAR(f);
                continue;
            }
            if (f != Py_None)
                out = PyTuple_Pack(6, f, LS[L_JUNOS], LS[L_JUNIPER], J_SVC[svc], J_CAT[fw], J_KEY[svc][fw]);
            else
                out = Py_NewRef(Py_None);
            goto done;
        }
        if (PyErr_Occurred()) goto done;
        out = Py_NewRef(Py_None);
        goto done;
    }
    /* the shape dispatch: PAM first among the candidates, else none at all (the fallback) */
    if (p->pam && (any_in(&p->pam_own, m, len) || starts_any(&p->pam_own_prefixes, m, len)) &&
        !any_in(&p->pam_ahead, m, len) && !starts_any(&p->pam_prefixes, m, len)) {
        f = pam_fields(msg, m, len, app, an);
        if (f == NULL) goto done;
        if (!PyDict_Check(f)) {
            out = Py_NewRef(Py_None);
            goto done;
        }
        if (app_services(appo, app, an, 1, &p->cache_app, &p->cache_svc, &p->cache_key, LS[L_LINUX]) < 0) goto done;
        out = PyTuple_Pack(6, f, LS[L_PAM], LS[L_LINUX], p->cache_svc, EMPTY_T, p->cache_key);
        goto done;
    }
    if (p->generic && !any_in(&p->all_markers, m, len) && !starts_any(&p->all_prefixes, m, len)) {
        if ((f = PyDict_New()) == NULL || PyDict_SetItem(f, LS[L_MESSAGE], msg) < 0 ||
            PyDict_SetItem(f, LS[L_PROGRAM], appo) < 0)
            goto done;
        if (app_services(appo, app, an, 0, &p->gen_app, &p->gen_svc, &p->gen_key, LS[L_LINUX]) < 0) goto done;
        out = PyTuple_Pack(6, f, LS[L_SYSLOG], LS[L_LINUX], p->gen_svc, EMPTY_T, p->gen_key);
        goto done;
    }
    out = Py_NewRef(Py_None);
done:
    Py_XDECREF(f);
    Py_XDECREF(msg);
    Py_DECREF(appo);
    return out;
}

/* ---- module functions ------------------------------------------------------------------------ */

static int printable_args(PyObject *args, const char *fmt, PyObject **msg, PyObject **app) {
    if (!PyArg_ParseTuple(args, fmt, msg, app)) return -1;
    if (!PyUnicode_IS_ASCII(*msg) || !PyUnicode_IS_ASCII(*app)) return 0;
    return fw_printable(PyUnicode_DATA(*msg), PyUnicode_GET_LENGTH(*msg)) &&
           fw_printable(PyUnicode_DATA(*app), PyUnicode_GET_LENGTH(*app));
}

PyObject *lx_pam_body(PyObject *self, PyObject *args) {
    PyObject *msg, *app;
    int ok = printable_args(args, "UU:pam_body", &msg, &app);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    const char *a = PyUnicode_DATA(app);
    Py_ssize_t an = PyUnicode_GET_LENGTH(app);
    PyObject *f = pam_fields(msg, PyUnicode_DATA(msg), PyUnicode_GET_LENGTH(msg), a, an);
    if (f == NULL || !PyDict_Check(f)) return f;
    PyObject *ca = NULL, *cs = NULL, *ck = NULL;
    if (app_services(app, a, an, 1, &ca, &cs, &ck, LS[L_LINUX]) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(3, f, cs, EMPTY_T);
    Py_DECREF(f), Py_XDECREF(ca), Py_XDECREF(cs), Py_XDECREF(ck);
    return out;
}

PyObject *lx_junos_body(PyObject *self, PyObject *args) {
    PyObject *msg, *app;
    int ok = printable_args(args, "UU:junos_body", &msg, &app);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    int svc, fw;
    PyObject *f = junos_fields(msg, PyUnicode_DATA(msg), PyUnicode_GET_LENGTH(msg), PyUnicode_DATA(app),
                               PyUnicode_GET_LENGTH(app), &svc, &fw);
    if (f == NULL || !PyDict_Check(f)) return f;
    PyObject *out = PyTuple_Pack(3, f, J_SVC[svc], J_CAT[fw]);
    Py_DECREF(f);
    return out;
}

int lx_module_init(PyObject *mod) {
    for (int k = 0; k < L_N; k++)
        if (LS[k] == NULL && (LS[k] = PyUnicode_InternFromString(L_TEXT[k])) == NULL) return -1;
    if (SD_MAP != NULL) return 0;
    SD_MAP = PyDict_New();
    PROTO_MAP = PyDict_New();
    PROTO_ID = PyUnicode_InternFromString("protocol-id");
    EMPTY_T = PyTuple_New(0);
    if (SD_MAP == NULL || PROTO_MAP == NULL || PROTO_ID == NULL || EMPTY_T == NULL) return -1;
    for (size_t k = 0; k < N_SD; k++) {
        PyObject *a = PyUnicode_InternFromString(SD_KEYS[k][0]), *b = PyUnicode_InternFromString(SD_KEYS[k][1]);
        if (a == NULL || b == NULL) return -1;
        /* (the int names: the very objects junos_sd compares with) */
        for (int q = 0; q < L_N; q++)
            if (strcmp(L_TEXT[q], SD_KEYS[k][1]) == 0) Py_SETREF(b, Py_NewRef(LS[q]));
        int rc = PyDict_SetItem(SD_MAP, a, b);
        Py_DECREF(a), Py_DECREF(b);
        if (rc < 0) return -1;
    }
    for (size_t k = 0; k < N_PROTOS; k++) {
        PyObject *a = PyUnicode_InternFromString(PROTOS[k][0]), *b = PyUnicode_InternFromString(PROTOS[k][1]);
        int rc = a != NULL && b != NULL ? PyDict_SetItem(PROTO_MAP, a, b) : -1;
        Py_XDECREF(a), Py_XDECREF(b);
        if (rc < 0) return -1;
    }
    J_SVC[JS_SYSLOG] = PyTuple_Pack(1, LS[L_SYSLOG]);
    J_SVC[JS_AAA] = PyTuple_Pack(2, LS[L_AAA], LS[L_SYSLOG]);
    J_SVC[JS_BGP] = PyTuple_Pack(2, LS[L_BGP], LS[L_SYSLOG]);
    J_SVC[JS_LINK] = PyTuple_Pack(2, LS[L_LINK], LS[L_SYSLOG]);
    J_CAT[0] = Py_NewRef(EMPTY_T);
    J_CAT[1] = PyTuple_Pack(1, LS[L_FIREWALL]);
    for (int k = 0; k < JS_N; k++)
        for (int c = 0; c < 2; c++)
            if (J_SVC[k] == NULL || J_CAT[c] == NULL ||
                (J_KEY[k][c] = PyTuple_Pack(3, LS[L_JUNIPER], J_SVC[k], J_CAT[c])) == NULL)
                return -1;
    PyObject *pats = PyTuple_New((Py_ssize_t)N_LX_PATTERNS);
    if (pats == NULL) return -1;
    for (size_t k = 0; k < N_LX_PATTERNS; k++) {
        PyObject *t = PyUnicode_FromString(LX_PATTERNS[k]);
        if (t == NULL) {
            Py_DECREF(pats);
            return -1;
        }
        PyTuple_SET_ITEM(pats, (Py_ssize_t)k, t);
    }
    if (PyModule_AddObject(mod, "LX_PATTERNS", pats) < 0) {
        Py_DECREF(pats);
        return -1;
    }
    if (PyModule_AddObject(mod, "JUNOS_SD_FIELDS", Py_NewRef(SD_MAP)) < 0 ||
        PyModule_AddObject(mod, "LX_PROTOS", Py_NewRef(PROTO_MAP)) < 0)
        return -1;
    return 0;
}
