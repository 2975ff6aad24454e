/*
 * _logfast_cisco.c (included by _logfast.c): the fields of a Cisco IOS/NX-OS message text, the
 * twin of cisco_ios.cisco_parsed for printable-ASCII text (0x20-0x7e: what cisco_line claims).
 *
 * Why: with the header read in C (cisco_line), a Cisco line still cost ~3-5 us in Python reading
 * the text: the bracket pairs, the interface state, one Aho-Corasick scan of the guards and the
 * regexes of _EXTRACT with their groupdicts. Here each regex is walked as `re` runs it, for this
 * alphabet: \s is the space, \S any other character, \w [A-Za-z0-9_], `.` any character and `$`
 * the end (no newline can be in the text). A regex is tried at each start `re.search` would try,
 * in order; a part whose length a later literal decides (a shorter repeat is followed by a
 * character of the repeat itself, which that literal refuses) takes one scan, and the parts
 * where `re` really backtracks (an address of _IP before `:`, `(` or `)`, the optional groups
 * before a required tail) enumerate their readings in the order `re` tries them (ip_next).
 *
 * The Python regexes stay the reference: CISCO_PATTERNS below lists the pattern texts walked
 * here, and the caller (parsers.LineParser) takes this path only when cisco_ios's patterns are
 * these exact texts; tests/collectors/logs/test_logfast_cisco.py compares both paths.
 */

/* the pattern texts (cisco_ios._BRACKETS, _IFACE, then _EXTRACT's guards and regexes, _IP
 * spelled out) this file walks: the reader refuses Cisco lines if cisco_ios's differ */
#define CX_IP "(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])"
static const char *const CISCO_PATTERNS[] = {
    "\\[(\\w+): ([^\\]]*)\\]",
    "Interface (?P<iface>[\\w/.:-]+), changed state to (?P<state>[\\w ]+?)\\s*$",
    "Configured ",
    "Configured (?:from (?P<via>\\S+) by|programmatically by process .*? from \\S+ as) "
    "(?P<user>\\S+)(?: on (?:[^\\s(@]+@)?(?P<line>[^\\s(]+))?(?: \\((?P<ip>" CX_IP ")\\))?",
    "Configured from", "by \\S+ on (?P<ip>[^\\s(@]+)@",
    "logged command", "User:(?P<user>\\S+)\\s+logged command:(?P<cmd>.*)",
    "executed the command", "User:(?P<user>\\S+) executed the command:(?P<cmd>.*)",
    "Username: ",
    "Username: (?P<user>\\S+)(?: Privilege level: \\d+)?(?: Command: (?P<cmd>.*?)(?: <cr>)?$)?",
    "username: ", "username: (?P<user>\\S+)",
    " by ", " by (?P<user>[^\\s(]+) on \\S+ \\((?P<ip>" CX_IP ")\\)",
    "User '", "User '(?P<user>[^']*)'",
    "for user '", "for user '(?P<user>[^']*)'",
    "has exited tty", "User (?P<user>\\S+) has exited tty session \\d+\\((?P<ip>" CX_IP ")\\)",
    "tty ", "tty \\d+ \\((?P<ip>" CX_IP ")\\)\\)?,? user (?P<user>\\S+)",
    "from ", "from (?P<ip>" CX_IP "):(?P<port>\\d+)",
    "Session", "Session (?:request )?from (?P<ip>" CX_IP ")",
    "list ",
    "list (?P<acl>\\S+) (?P<act>permitted|denied) (?P<proto>\\w+) (?P<ip>" CX_IP ")\\((?P<port>\\d+)\\)"
    "(?: \\([^)]*\\))? -> (?P<dip>" CX_IP ")\\((?P<dport>\\d+)\\)",
    "list ",
    "list (?P<acl>\\S+) (?P<act>permitted|denied) (?:(?P<proto>[a-z]+) )?(?P<ip>" CX_IP ")"
    "(?: -> (?P<dip>" CX_IP "))?",
    "Logging to host", "Logging to host (?P<dip>" CX_IP ")(?: port (?P<dport>\\d+))?",
    "Duplicate address", "Duplicate address (?P<ip>" CX_IP ")",
    "Sticky ARP", "Sticky ARP entry: (?P<ip>" CX_IP ")",
    "duplicate of local", "duplicate of local, (?P<ip>" CX_IP ")",
    "illegal user", "for (?:illegal|invalid) user (?P<user>\\S+) from (?P<ip>" CX_IP ")",
    "Authentication failed from", "Authentication failed from (?P<ip>" CX_IP ")",
    "NETCONF user", "via NETCONF user (?P<user>\\S+)",
    "RPC '", "RPC '(?P<url>[^']*)'",
    "://", "\\((?P<url>\\w+://[^)\\s]*)\\)",
};
#undef CX_IP
#define N_CISCO_PATTERNS ((Py_ssize_t)(sizeof CISCO_PATTERNS / sizeof CISCO_PATTERNS[0]))

static inline int cx_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* t[i:] starts with the literal w (length wn) */
static inline int cx_at(const char *t, Py_ssize_t n, Py_ssize_t i, const char *w, Py_ssize_t wn) {
    return i >= 0 && n - i >= wn && memcmp(t + i, w, (size_t)wn) == 0;
}
#define LIT(w) w, (Py_ssize_t)(sizeof(w) - 1)
#define AT(i, w) cx_at(t, n, (i), LIT(w))
#define FIND(from, w) find_from(t, n, (from), LIT(w))

/* the end of the run from i of characters that are not the space (\S+: i itself when none) */
static inline Py_ssize_t cx_nonspace(const char *t, Py_ssize_t n, Py_ssize_t i) {
    while (i < n && t[i] != ' ') i++;
    return i;
}
static inline Py_ssize_t cx_digits(const char *t, Py_ssize_t n, Py_ssize_t i) {
    while (i < n && is_digit(t[i])) i++;
    return i;
}
/* [^\s(]+ and [^\s(@]+ (at_too) */
static inline Py_ssize_t cx_word_line(const char *t, Py_ssize_t n, Py_ssize_t i, int at_too) {
    while (i < n && t[i] != ' ' && t[i] != '(' && !(at_too && t[i] == '@')) i++;
    return i;
}

/* _IP's readings at p, in the order re tries them: `\d{1,3}(?:\.\d{1,3}){3}` (the first three
 * octets are decided: each must be a 1-3 digit run followed by `.`; then the last one 3, 2, 1
 * digits), then `[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]` (the leading hex run is decided by the
 * `:` after it; then every end after a hex digit of the class run, longest first). */
typedef struct {
    const char *t;
    Py_ssize_t n, v4[3], p0, e;
    int nv4, k, alt2;
} ipit_t;

static void ip_start(ipit_t *it, const char *t, Py_ssize_t n, Py_ssize_t p) {
    it->t = t, it->n = n, it->nv4 = 0, it->k = 0, it->alt2 = 0;
    Py_ssize_t i = p;
    int ok = 1;
    for (int o = 0; o < 3 && ok; o++) {
        Py_ssize_t d = cx_digits(t, n, i);
        if (d == i || d - i > 3 || d >= n || t[d] != '.') ok = 0;
        else i = d + 1;
    }
    if (ok) {
        Py_ssize_t d = i;
        while (d < n && d - i < 3 && is_digit(t[d])) d++;
        for (Py_ssize_t e = d; e > i; e--) it->v4[it->nv4++] = e;
    }
    Py_ssize_t h = p;
    while (h < n && cx_hex(t[h])) h++;
    if (h < n && t[h] == ':') {
        Py_ssize_t r = h + 1;
        while (r < n && (cx_hex(t[r]) || t[r] == ':' || t[r] == '.')) r++;
        it->p0 = h, it->e = r, it->alt2 = 1;
    }
}

/* the next reading's end, -1 when there is none left */
static Py_ssize_t ip_next(ipit_t *it) {
    if (it->k < it->nv4) return it->v4[it->k++];
    while (it->alt2 && it->e >= it->p0 + 2) {
        Py_ssize_t e = it->e--;
        if (cx_hex(it->t[e - 1])) return e;
    }
    it->alt2 = 0;
    return -1;
}

/* the first reading (an _IP followed by nothing the regex requires) */
static Py_ssize_t ip_first(const char *t, Py_ssize_t n, Py_ssize_t p) {
    ipit_t it;
    ip_start(&it, t, n, p);
    return ip_next(&it);
}

/* the groups of a match, in the regex's order (groupdict's): name, span (a < 0: not matched) */
enum { G_VIA, G_USER, G_LINE, G_IP, G_CMD, G_PORT, G_ACL, G_ACT, G_PROTO, G_DIP, G_DPORT, G_URL };
typedef struct {
    int n;
    int g[8];
    Py_ssize_t a[8], b[8];
} cx_match;

static inline void grp(cx_match *m, int g, Py_ssize_t a, Py_ssize_t b) {
    m->g[m->n] = g, m->a[m->n] = a, m->b[m->n] = b;
    m->n++;
}

/* Configured (?:from (?P<via>\S+) by|programmatically by process .*? from \S+ as) (?P<user>\S+)
 * (?: on (?:[^\s(@]+@)?(?P<line>[^\s(]+))?(?: \((?P<ip>_IP)\))? */
static int cx_configured(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "Configured "); p >= 0; p = FIND(p + 1, "Configured ")) {
        Py_ssize_t i = p + 11, via0 = -1, via1 = -1, u0 = -1;
        if (AT(i, "from ")) {
            Py_ssize_t e = cx_nonspace(t, n, i + 5);
            if (e > i + 5 && AT(e, " by ") && e + 4 < n && t[e + 4] != ' ') via0 = i + 5, via1 = e, u0 = e + 4;
        } else if (AT(i, "programmatically by process ")) {
            for (Py_ssize_t f = FIND(i + 28, " from "); f >= 0; f = FIND(f + 1, " from ")) {
                Py_ssize_t e = cx_nonspace(t, n, f + 6);
                if (e > f + 6 && AT(e, " as ") && e + 4 < n && t[e + 4] != ' ') {
                    u0 = e + 4;
                    break;
                }
            }
        }
        if (u0 < 0) continue;
        Py_ssize_t u1 = cx_nonspace(t, n, u0), end = u1, l0 = -1, l1 = -1, ip0 = -1, ip1 = -1;
        if (AT(u1, " on ")) {
            Py_ssize_t j = u1 + 4, k = cx_word_line(t, n, j, 1);
            if (k > j && k < n && t[k] == '@') {
                Py_ssize_t e = cx_word_line(t, n, k + 1, 0);
                if (e > k + 1) l0 = k + 1, l1 = e;
            }
            if (l0 < 0) {
                Py_ssize_t e = cx_word_line(t, n, j, 0);
                if (e > j) l0 = j, l1 = e;
            }
            if (l0 >= 0) end = l1;
        }
        if (AT(end, " (")) {
            ipit_t it;
            ip_start(&it, t, n, end + 2);
            for (Py_ssize_t e; (e = ip_next(&it)) >= 0;)
                if (e < n && t[e] == ')') {
                    ip0 = end + 2, ip1 = e;
                    break;
                }
        }
        grp(m, G_VIA, via0, via1), grp(m, G_USER, u0, u1), grp(m, G_LINE, l0, l1), grp(m, G_IP, ip0, ip1);
        return 1;
    }
    return 0;
}

/* by \S+ on (?P<ip>[^\s(@]+)@ */
static int cx_by_on_at(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "by "); p >= 0; p = FIND(p + 1, "by ")) {
        Py_ssize_t e = cx_nonspace(t, n, p + 3);
        if (e == p + 3 || !AT(e, " on ")) continue;
        Py_ssize_t k = cx_word_line(t, n, e + 4, 1);
        if (k > e + 4 && k < n && t[k] == '@') {
            grp(m, G_IP, e + 4, k);
            return 1;
        }
    }
    return 0;
}

/* User:(?P<user>\S+)\s+logged command:(?P<cmd>.*) (spaces 1) and
 * User:(?P<user>\S+) executed the command:(?P<cmd>.*) (spaces 0) */
static int cx_user_command(const char *t, Py_ssize_t n, cx_match *m, int spaces) {
    for (Py_ssize_t p = FIND(0, "User:"); p >= 0; p = FIND(p + 1, "User:")) {
        Py_ssize_t u1 = cx_nonspace(t, n, p + 5), c0 = -1;
        if (u1 == p + 5) continue;
        if (spaces) {
            Py_ssize_t k = u1;
            while (k < n && t[k] == ' ') k++;
            if (k > u1 && AT(k, "logged command:")) c0 = k + 15;
        } else if (AT(u1, " executed the command:")) {
            c0 = u1 + 22;
        }
        if (c0 < 0) continue;
        grp(m, G_USER, p + 5, u1), grp(m, G_CMD, c0, n);
        return 1;
    }
    return 0;
}

/* Username: (?P<user>\S+)(?: Privilege level: \d+)?(?: Command: (?P<cmd>.*?)(?: <cr>)?$)? */
static int cx_username_cmd(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "Username: "); p >= 0; p = FIND(p + 1, "Username: ")) {
        Py_ssize_t u1 = cx_nonspace(t, n, p + 10), j, c0 = -1, c1 = -1;
        if (u1 == p + 10) continue;
        j = u1;
        if (AT(j, " Privilege level: ") && j + 18 < n && is_digit(t[j + 18])) j = cx_digits(t, n, j + 18);
        if (AT(j, " Command: ")) {
            c0 = j + 10;
            c1 = n - c0 >= 5 && memcmp(t + n - 5, " <cr>", 5) == 0 ? n - 5 : n;
        }
        grp(m, G_USER, p + 10, u1), grp(m, G_CMD, c0, c1);
        return 1;
    }
    return 0;
}

/* LIT(\S+) for a literal w: w(?P<user>\S+) (username: , via NETCONF user ) */
static int cx_lit_user(const char *t, Py_ssize_t n, cx_match *m, const char *w, Py_ssize_t wn) {
    for (Py_ssize_t p = find_from(t, n, 0, w, wn); p >= 0; p = find_from(t, n, p + 1, w, wn)) {
        Py_ssize_t u1 = cx_nonspace(t, n, p + wn);
        if (u1 > p + wn) {
            grp(m, G_USER, p + wn, u1);
            return 1;
        }
    }
    return 0;
}

/*  by (?P<user>[^\s(]+) on \S+ \((?P<ip>_IP)\) */
static int cx_by_user_on(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, " by "); p >= 0; p = FIND(p + 1, " by ")) {
        Py_ssize_t u1 = cx_word_line(t, n, p + 4, 0);
        if (u1 == p + 4 || !AT(u1, " on ")) continue;
        Py_ssize_t e = cx_nonspace(t, n, u1 + 4);
        if (e == u1 + 4 || !AT(e, " (")) continue;
        ipit_t it;
        ip_start(&it, t, n, e + 2);
        for (Py_ssize_t x; (x = ip_next(&it)) >= 0;)
            if (x < n && t[x] == ')') {
                grp(m, G_USER, p + 4, u1), grp(m, G_IP, e + 2, x);
                return 1;
            }
    }
    return 0;
}

/* w(?P<g>[^']*)' for w ending in a quote (User ', for user ', RPC ') */
static int cx_quoted(const char *t, Py_ssize_t n, cx_match *m, const char *w, Py_ssize_t wn, int g) {
    for (Py_ssize_t p = find_from(t, n, 0, w, wn); p >= 0; p = find_from(t, n, p + 1, w, wn)) {
        const char *q = memchr(t + p + wn, '\'', (size_t)(n - p - wn));
        if (q != NULL) {
            grp(m, g, p + wn, q - t);
            return 1;
        }
    }
    return 0;
}

/* User (?P<user>\S+) has exited tty session \d+\((?P<ip>_IP)\) */
static int cx_exited(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "User "); p >= 0; p = FIND(p + 1, "User ")) {
        Py_ssize_t u1 = cx_nonspace(t, n, p + 5);
        if (u1 == p + 5 || !AT(u1, " has exited tty session ")) continue;
        Py_ssize_t d = cx_digits(t, n, u1 + 24);
        if (d == u1 + 24 || d >= n || t[d] != '(') continue;
        ipit_t it;
        ip_start(&it, t, n, d + 1);
        for (Py_ssize_t x; (x = ip_next(&it)) >= 0;)
            if (x < n && t[x] == ')') {
                grp(m, G_USER, p + 5, u1), grp(m, G_IP, d + 1, x);
                return 1;
            }
    }
    return 0;
}

/* tty \d+ \((?P<ip>_IP)\)\)?,? user (?P<user>\S+) */
static int cx_tty(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "tty "); p >= 0; p = FIND(p + 1, "tty ")) {
        Py_ssize_t d = cx_digits(t, n, p + 4);
        if (d == p + 4 || !AT(d, " (")) continue;
        ipit_t it;
        ip_start(&it, t, n, d + 2);
        for (Py_ssize_t x; (x = ip_next(&it)) >= 0;) {
            if (x >= n || t[x] != ')') continue;
            for (int w = 1; w >= 0; w--) { /* \)? then ,? : with first, as re tries them */
                if (w && !(x + 1 < n && t[x + 1] == ')')) continue;
                Py_ssize_t k = x + 1 + w;
                for (int c = 1; c >= 0; c--) {
                    if (c && !(k < n && t[k] == ',')) continue;
                    Py_ssize_t l = k + c;
                    if (AT(l, " user ") && l + 6 < n && t[l + 6] != ' ') {
                        grp(m, G_IP, d + 2, x), grp(m, G_USER, l + 6, cx_nonspace(t, n, l + 6));
                        return 1;
                    }
                }
            }
        }
    }
    return 0;
}

/* from (?P<ip>_IP):(?P<port>\d+) */
static int cx_from_port(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "from "); p >= 0; p = FIND(p + 1, "from ")) {
        ipit_t it;
        ip_start(&it, t, n, p + 5);
        for (Py_ssize_t x; (x = ip_next(&it)) >= 0;)
            if (x + 1 < n && t[x] == ':' && is_digit(t[x + 1])) {
                grp(m, G_IP, p + 5, x), grp(m, G_PORT, x + 1, cx_digits(t, n, x + 1));
                return 1;
            }
    }
    return 0;
}

/* Session (?:request )?from (?P<ip>_IP) */
static int cx_session(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "Session "); p >= 0; p = FIND(p + 1, "Session ")) {
        Py_ssize_t j = p + 8, x;
        if (AT(j, "request from ") && (x = ip_first(t, n, j + 13)) >= 0) {
            grp(m, G_IP, j + 13, x);
            return 1;
        }
        if (AT(j, "from ") && (x = ip_first(t, n, j + 5)) >= 0) {
            grp(m, G_IP, j + 5, x);
            return 1;
        }
    }
    return 0;
}

/* `list (?P<acl>\S+) (?P<act>permitted|denied) ` at p: the end of the act's space, or -1 */
static Py_ssize_t cx_list_head(const char *t, Py_ssize_t n, Py_ssize_t p, Py_ssize_t *acl1, Py_ssize_t *act1) {
    Py_ssize_t a1 = cx_nonspace(t, n, p + 5);
    if (a1 == p + 5 || a1 >= n) return -1;
    Py_ssize_t j = a1 + 1, e = -1;
    if (AT(j, "permitted ")) e = j + 9;
    else if (AT(j, "denied ")) e = j + 6;
    if (e < 0) return -1;
    *acl1 = a1, *act1 = e;
    return e + 1;
}

/* \((?P<port>\d+)\) at i: the end, or -1 */
static Py_ssize_t cx_paren_digits(const char *t, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *d1) {
    if (i >= n || t[i] != '(') return -1;
    Py_ssize_t d = cx_digits(t, n, i + 1);
    if (d == i + 1 || d >= n || t[d] != ')') return -1;
    *d1 = d;
    return d + 1;
}

/* list (?P<acl>\S+) (?P<act>permitted|denied) (?P<proto>\w+) (?P<ip>_IP)\((?P<port>\d+)\)
 * (?: \([^)]*\))? -> (?P<dip>_IP)\((?P<dport>\d+)\) */
static int cx_list_ports(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "list "); p >= 0; p = FIND(p + 1, "list ")) {
        Py_ssize_t acl1, act1, j = cx_list_head(t, n, p, &acl1, &act1);
        if (j < 0) continue;
        Py_ssize_t pr1 = j;
        while (pr1 < n && is_word((unsigned char)t[pr1])) pr1++;
        if (pr1 == j || pr1 >= n || t[pr1] != ' ') continue;
        ipit_t it;
        ip_start(&it, t, n, pr1 + 1);
        for (Py_ssize_t x; (x = ip_next(&it)) >= 0;) {
            Py_ssize_t pd1, after = cx_paren_digits(t, n, x, &pd1);
            if (after < 0) continue;
            for (int w = 1; w >= 0; w--) { /* (?: \([^)]*\))? with, then without */
                Py_ssize_t k = after;
                if (w) {
                    if (!AT(after, " (")) continue;
                    const char *r = memchr(t + after + 2, ')', (size_t)(n - after - 2));
                    if (r == NULL) continue;
                    k = r - t + 1;
                }
                if (!AT(k, " -> ")) continue;
                ipit_t it2;
                ip_start(&it2, t, n, k + 4);
                for (Py_ssize_t y; (y = ip_next(&it2)) >= 0;) {
                    Py_ssize_t dd1;
                    if (cx_paren_digits(t, n, y, &dd1) < 0) continue;
                    grp(m, G_ACL, p + 5, acl1), grp(m, G_ACT, acl1 + 1, act1), grp(m, G_PROTO, j, pr1);
                    grp(m, G_IP, pr1 + 1, x), grp(m, G_PORT, x + 1, pd1), grp(m, G_DIP, k + 4, y);
                    grp(m, G_DPORT, y + 1, dd1);
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* list (?P<acl>\S+) (?P<act>permitted|denied) (?:(?P<proto>[a-z]+) )?(?P<ip>_IP)(?: -> (?P<dip>_IP))? */
static int cx_list(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "list "); p >= 0; p = FIND(p + 1, "list ")) {
        Py_ssize_t acl1, act1, j = cx_list_head(t, n, p, &acl1, &act1);
        if (j < 0) continue;
        Py_ssize_t pr0 = -1, pr1 = j, ip0 = -1, x = -1;
        while (pr1 < n && t[pr1] >= 'a' && t[pr1] <= 'z') pr1++;
        if (pr1 > j && pr1 < n && t[pr1] == ' ' && (x = ip_first(t, n, pr1 + 1)) >= 0) pr0 = j, ip0 = pr1 + 1;
        if (ip0 < 0 && (x = ip_first(t, n, j)) >= 0) ip0 = j;
        if (ip0 < 0) continue;
        Py_ssize_t d0 = -1, d1 = -1;
        if (AT(x, " -> ") && (d1 = ip_first(t, n, x + 4)) >= 0) d0 = x + 4;
        grp(m, G_ACL, p + 5, acl1), grp(m, G_ACT, acl1 + 1, act1), grp(m, G_PROTO, pr0, pr0 < 0 ? -1 : pr1);
        grp(m, G_IP, ip0, x), grp(m, G_DIP, d0, d1);
        return 1;
    }
    return 0;
}

/* Logging to host (?P<dip>_IP)(?: port (?P<dport>\d+))? */
static int cx_logging_host(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "Logging to host "); p >= 0; p = FIND(p + 1, "Logging to host ")) {
        Py_ssize_t x = ip_first(t, n, p + 16), d0 = -1, d1 = -1;
        if (x < 0) continue;
        if (AT(x, " port ") && x + 6 < n && is_digit(t[x + 6])) d0 = x + 6, d1 = cx_digits(t, n, x + 6);
        grp(m, G_DIP, p + 16, x), grp(m, G_DPORT, d0, d1);
        return 1;
    }
    return 0;
}

/* w(?P<ip>_IP) for a literal w */
static int cx_lit_ip(const char *t, Py_ssize_t n, cx_match *m, const char *w, Py_ssize_t wn) {
    for (Py_ssize_t p = find_from(t, n, 0, w, wn); p >= 0; p = find_from(t, n, p + 1, w, wn)) {
        Py_ssize_t x = ip_first(t, n, p + wn);
        if (x >= 0) {
            grp(m, G_IP, p + wn, x);
            return 1;
        }
    }
    return 0;
}

/* for (?:illegal|invalid) user (?P<user>\S+) from (?P<ip>_IP) */
static int cx_illegal(const char *t, Py_ssize_t n, cx_match *m) {
    for (Py_ssize_t p = FIND(0, "for "); p >= 0; p = FIND(p + 1, "for ")) {
        Py_ssize_t j = p + 4;
        if (!AT(j, "illegal user ") && !AT(j, "invalid user ")) continue;
        Py_ssize_t u1 = cx_nonspace(t, n, j + 13), x;
        if (u1 == j + 13 || !AT(u1, " from ") || (x = ip_first(t, n, u1 + 6)) < 0) continue;
        grp(m, G_USER, j + 13, u1), grp(m, G_IP, u1 + 6, x);
        return 1;
    }
    return 0;
}

/* \((?P<url>\w+://[^)\s]*)\) */
static int cx_url(const char *t, Py_ssize_t n, cx_match *m) {
    for (const char *q = memchr(t, '(', (size_t)n); q != NULL; q = memchr(q + 1, '(', (size_t)(t + n - q - 1))) {
        Py_ssize_t p = q - t, w = p + 1;
        while (w < n && is_word((unsigned char)t[w])) w++;
        if (w == p + 1 || !AT(w, "://")) continue;
        Py_ssize_t r = w + 3;
        while (r < n && t[r] != ')' && t[r] != ' ') r++;
        if (r < n && t[r] == ')') {
            grp(m, G_URL, p + 1, r);
            return 1;
        }
        if (q + 1 >= t + n) break;
    }
    return 0;
}

/* _EXTRACT in its order: the match of extractor k on t, its guard included (0: no match) */
static int cx_extract(int k, const char *t, Py_ssize_t n, cx_match *m) {
    m->n = 0;
    switch (k) {
    case 0: return cx_configured(t, n, m);
    case 1: return find_from(t, n, 0, LIT("Configured from")) >= 0 && cx_by_on_at(t, n, m);
    case 2: return cx_user_command(t, n, m, 1);
    case 3: return cx_user_command(t, n, m, 0);
    case 4: return cx_username_cmd(t, n, m);
    case 5: return cx_lit_user(t, n, m, LIT("username: "));
    case 6: return cx_by_user_on(t, n, m);
    case 7: return cx_quoted(t, n, m, LIT("User '"), G_USER);
    case 8: return cx_quoted(t, n, m, LIT("for user '"), G_USER);
    case 9: return cx_exited(t, n, m);
    case 10: return cx_tty(t, n, m);
    case 11: return cx_from_port(t, n, m);
    case 12: return cx_session(t, n, m);
    case 13: return cx_list_ports(t, n, m);
    case 14: return cx_list(t, n, m);
    case 15: return cx_logging_host(t, n, m);
    case 16: return cx_lit_ip(t, n, m, LIT("Duplicate address "));
    case 17: return cx_lit_ip(t, n, m, LIT("Sticky ARP entry: "));
    case 18: return cx_lit_ip(t, n, m, LIT("duplicate of local, "));
    case 19: return find_from(t, n, 0, LIT("illegal user")) >= 0 && cx_illegal(t, n, m);
    case 20: return cx_lit_ip(t, n, m, LIT("Authentication failed from "));
    case 21: return cx_lit_user(t, n, m, LIT("via NETCONF user "));
    case 22: return cx_quoted(t, n, m, LIT("RPC '"), G_URL);
    case 23: return cx_url(t, n, m);
    }
    return 0;
}
#define N_EXTRACT 24

/* base.is_ip for ASCII text without a newline: `\d{1,3}(?:\.\d{1,3}){3}` or
 * `[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?`, whole */
static int cx_is_ip(const char *v, Py_ssize_t n) {
    Py_ssize_t i = 0;
    int parts = 0;
    for (;;) { /* dotted quad */
        Py_ssize_t d = cx_digits(v, n, i);
        if (d == i || d - i > 3) break;
        parts++;
        if (d == n) {
            if (parts == 4) return 1;
            break;
        }
        if (v[d] != '.' || parts == 4) break;
        i = d + 1;
    }
    Py_ssize_t end = n;
    const char *pct = memchr(v, '%', (size_t)n);
    if (pct != NULL) { /* (?:%\w+)? at the end */
        end = pct - v;
        if (end + 1 >= n) return 0;
        for (Py_ssize_t k = end + 1; k < n; k++)
            if (!is_word((unsigned char)v[k])) return 0;
    }
    int groups = 0;
    Py_ssize_t run = 0;
    for (Py_ssize_t k = 0; k < end; k++) {
        if (v[k] == ':') {
            groups++, run = 0;
        } else if (cx_hex(v[k]) && run < 4) {
            run++;
        } else {
            return 0;
        }
    }
    return groups >= 2 && groups <= 7;
}

/* cisco_ios._IFACE.search: `Interface (?P<iface>[\w/.:-]+), changed state to (?P<state>[\w ]+?)\s*$` */
static int cx_iface(const char *t, Py_ssize_t n, Py_ssize_t *i0, Py_ssize_t *i1, Py_ssize_t *s0, Py_ssize_t *s1) {
    for (Py_ssize_t p = FIND(0, "Interface "); p >= 0; p = FIND(p + 1, "Interface ")) {
        Py_ssize_t e = p + 10;
        while (e < n && (is_word((unsigned char)t[e]) || t[e] == '/' || t[e] == '.' || t[e] == ':' || t[e] == '-')) e++;
        if (e == p + 10 || !AT(e, ", changed state to ")) continue;
        Py_ssize_t a = e + 19, k = a;
        while (k < n && (is_word((unsigned char)t[k]) || t[k] == ' ')) k++;
        if (k != n || a == n) continue;
        Py_ssize_t b = n;
        while (b > a + 1 && t[b - 1] == ' ') b--;
        *i0 = p + 10, *i1 = e, *s0 = a, *s1 = b;
        return 1;
    }
    return 0;
}

/* str.strip() of ASCII text without control characters: the spaces */
static PyObject *cx_strip(const char *t, Py_ssize_t a, Py_ssize_t b) {
    while (a < b && t[a] == ' ') a++;
    while (b > a && t[b - 1] == ' ') b--;
    return ascii_sub(t, a, b);
}

/* d[key] = v unless key is in d (v consumed). 0, or -1 with an error set. */
static int cx_setdefault(PyObject *d, PyObject *key, PyObject *v) {
    if (v == NULL) return -1;
    int rc = PyDict_SetDefault(d, key, v) == NULL ? -1 : 0;
    Py_DECREF(v);
    return rc;
}

enum { CK_FACILITY, CK_SEVERITY, CK_MNEMONIC, CK_EVENT_ID, CK_REASON, CK_INTERFACE, CK_STATE, CK_VIA, CK_LINE,
       CK_ACL, CK_COMMAND, CK_CURI, CK_PERMIT, CK_DENY, CK_N };
static const char *const CISCO_NAMES[CK_N] = {"facility", "severity", "mnemonic", "event_id", "reason",
                                               "interface", "state", "via", "line", "acl", "command", "c-uri",
                                               "permit", "deny"};
static PyObject *CSTR[CK_N]; /* interned at import */

/* cisco_ios._outcome: 0 none, 1 success, 2 failure */
static int cx_outcome(const char *fac, Py_ssize_t fn, const char *mn, Py_ssize_t mnn, const char *t, Py_ssize_t n) {
    if (!(fn == 9 && memcmp(fac, "SEC_LOGIN", 9) == 0) && !has(mn, mnn, "AUTH")) return 0;
    if (has(mn, mnn, "FAIL") || (mnn == 13 && memcmp(mn, "QUIET_MODE_ON", 13) == 0)) return 2;
    if (mnn >= 8 && memcmp(mn + mnn - 8, "USERAUTH", 8) == 0) {
        Py_ssize_t e = n; /* text.rstrip(". ").rsplit(" ", 1)[-1].lower() */
        while (e > 0 && (t[e - 1] == '.' || t[e - 1] == ' ')) e--;
        Py_ssize_t b = e;
        while (b > 0 && t[b - 1] != ' ') b--;
        char w[10];
        if (e - b != 9 && e - b != 6) return 0;
        for (Py_ssize_t k = b; k < e; k++) w[k - b] = (char)(t[k] >= 'A' && t[k] <= 'Z' ? t[k] + 32 : t[k]);
        if (e - b == 9 && memcmp(w, "succeeded", 9) == 0) return 1;
        if (e - b == 6 && memcmp(w, "failed", 6) == 0) return 2;
        return 0;
    }
    if (has(mn, mnn, "SUCCESS") || has(mn, mnn, "PASS")) return 1;
    return 0;
}

/* cisco_ios.cisco_parsed's fields for the message s[f0:n] = `%FAC-S-MN:` then spaces then the text
 * s[t0:n] (fac s[f0:f1], mnemonic s[mn0:mn1]), printable ASCII; `protos`: base.IANA_PROTO.
 * *firewall set when an ACL log's action was read (categories ("firewall",)). NULL: an error. */
static PyObject *cisco_fields(const char *s, Py_ssize_t n, Py_ssize_t f0, Py_ssize_t f1, long sev, Py_ssize_t mn0,
                              Py_ssize_t mn1, Py_ssize_t t0, PyObject *protos, int *firewall) {
    const char *t = s + t0;
    Py_ssize_t tn = n - t0;
    PyObject *f = fields_dict(8), *v = NULL;
    *firewall = 0;
    if (f == NULL) return NULL;
#define PUTK(key, val)                                                   \
    do {                                                                 \
        v = (val);                                                       \
        if (v == NULL || PyDict_SetItem(f, (key), v) < 0) goto fail;     \
        Py_CLEAR(v);                                                     \
    } while (0)
    PUTK(CSTR[CK_FACILITY], ascii_sub(s, f0, f1));
    PUTK(CSTR[CK_SEVERITY], PyLong_FromLong(sev));
    PUTK(CSTR[CK_MNEMONIC], ascii_sub(s, mn0, mn1));
    PUTK(CSTR[CK_EVENT_ID], ascii_sub(s, f0, mn1));
    PUTK(STR[K_MESSAGE], ascii_sub(s, t0, n));
    if (memchr(t, '[', (size_t)tn) != NULL) { /* _BRACKETS.findall: \[(\w+): ([^\]]*)\] */
        Py_ssize_t i = 0;
        while (i < tn) {
            const char *q = memchr(t + i, '[', (size_t)(tn - i));
            if (q == NULL) break;
            Py_ssize_t p = q - t, k = p + 1;
            while (k < tn && is_word((unsigned char)t[k])) k++;
            const char *r = k > p + 1 && k + 1 < tn && t[k] == ':' && t[k + 1] == ' '
                                ? memchr(t + k + 2, ']', (size_t)(tn - k - 2)) : NULL;
            if (r == NULL) {
                i = p + 1;
                continue;
            }
            Py_ssize_t v0 = k + 2, v1 = r - t, kn = k - p - 1;
            char key[10];
            if (kn <= 9) { /* k.lower() among user, source, localport, reason */
                for (Py_ssize_t c = 0; c < kn; c++) {
                    char ch = t[p + 1 + c];
                    key[c] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
                }
                if (kn == 4 && memcmp(key, "user", 4) == 0) {
                    if (v1 > v0) PUTK(STR[K_USER], ascii_sub(t, v0, v1));
                } else if (kn == 6 && memcmp(key, "source", 6) == 0) {
                    PUTK(STR[K_SRC_IP], ascii_sub(t, v0, v1));
                } else if (kn == 9 && memcmp(key, "localport", 9) == 0) {
                    PyObject *sv = ascii_sub(t, v0, v1); /* base.to_int: int(v), else v */
                    if (sv == NULL) goto fail;
                    PyObject *iv = PyLong_FromUnicodeObject(sv, 10);
                    if (iv == NULL) {
                        if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
                            Py_DECREF(sv);
                            goto fail;
                        }
                        PyErr_Clear();
                        iv = sv;
                    } else {
                        Py_DECREF(sv);
                    }
                    PUTK(STR[K_DST_PORT], iv);
                } else if (kn == 6 && memcmp(key, "reason", 6) == 0) {
                    PUTK(CSTR[CK_REASON], ascii_sub(t, v0, v1));
                }
            }
            i = v1 + 1;
        }
    }
    if (has(t, tn, "changed state")) {
        Py_ssize_t i0, i1, s0, s1;
        if (cx_iface(t, tn, &i0, &i1, &s0, &s1)) {
            PUTK(CSTR[CK_INTERFACE], ascii_sub(t, i0, i1));
            PUTK(CSTR[CK_STATE], ascii_sub(t, s0, s1));
        }
    }
    cx_match m;
    for (int k = 0; k < N_EXTRACT; k++) {
        if (!cx_extract(k, t, tn, &m)) continue;
        for (int g = 0; g < m.n; g++) {
            Py_ssize_t a = m.a[g], b = m.b[g];
            if (a < 0 || b <= a) continue; /* None or "": skipped */
            PyObject *key = NULL;
            switch (m.g[g]) {
            case G_IP:
                if (cx_setdefault(f, STR[cx_is_ip(t + a, b - a) ? K_SRC_IP : K_SRC_HOST], ascii_sub(t, a, b)) < 0)
                    goto fail;
                continue;
            case G_ACT: {
                int permit = b - a == 9; /* permitted | denied */
                PUTK(STR[K_ACTION], Py_NewRef(CSTR[permit ? CK_PERMIT : CK_DENY]));
                PUTK(STR[K_BLOCKED], Py_NewRef(STR[permit ? V_FALSE : V_TRUE]));
                *firewall = 1;
                continue;
            }
            case G_USER: key = STR[K_USER]; break;
            case G_PORT: key = STR[K_SRC_PORT]; break;
            case G_DIP: key = STR[K_DST_IP]; break;
            case G_DPORT: key = STR[K_DST_PORT]; break;
            case G_URL: key = CSTR[CK_CURI]; break;
            case G_CMD: key = CSTR[CK_COMMAND]; break;
            case G_PROTO: key = STR[K_NETWORK_PROTOCOL]; break;
            case G_VIA: key = CSTR[CK_VIA]; break;
            case G_LINE: key = CSTR[CK_LINE]; break;
            case G_ACL: key = CSTR[CK_ACL]; break;
            }
            int present = PyDict_Contains(f, key);
            if (present < 0) goto fail;
            if (present) continue;
            switch (m.g[g]) {
            case G_PORT:
            case G_DPORT: /* base.digits: None past 18 digits (then not set) */
                if (b - a > 18) continue;
                v = digits_value(t, a, b);
                break;
            case G_CMD: v = cx_strip(t, a, b); break;
            case G_PROTO: { /* base.transport: lower-case, numbers by IANA_PROTO */
                char low[64];
                if (b - a > (Py_ssize_t)sizeof low) {
                    PyObject *raw = ascii_sub(t, a, b);
                    if (raw == NULL) goto fail;
                    v = PyObject_CallMethod(raw, "lower", NULL);
                    Py_DECREF(raw);
                } else {
                    for (Py_ssize_t c = a; c < b; c++)
                        low[c - a] = (char)(t[c] >= 'A' && t[c] <= 'Z' ? t[c] + 32 : t[c]);
                    v = ascii_sub(low, 0, b - a);
                }
                if (v == NULL) goto fail;
                PyObject *named = PyDict_GetItemWithError(protos, v);
                if (named == NULL && PyErr_Occurred()) goto fail;
                if (named != NULL) Py_SETREF(v, Py_NewRef(named));
                break;
            }
            default: v = ascii_sub(t, a, b);
            }
            if (v == NULL || PyDict_SetItem(f, key, v) < 0) goto fail;
            Py_CLEAR(v);
        }
    }
    int outcome = cx_outcome(s + f0, f1 - f0, s + mn0, mn1 - mn0, t, tn);
    if (outcome) PUTK(STR[K_OUTCOME], Py_NewRef(STR[outcome == 1 ? V_SUCCESS : V_FAILURE]));
#undef PUTK
    return f;
fail:
    Py_XDECREF(v);
    Py_DECREF(f);
    return NULL;
}

/* _logfast.cisco_fields(message, protos): cisco_parsed's (fields, firewall) for a message
 * `%FAC-S-MN: text` of printable ASCII whose tag cisco_line reads; None for any other (tests
 * compare it with cisco_parsed on texts no header would carry). */
static Py_ssize_t cisco_tag(const char *s, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *f1, long *sev, Py_ssize_t *mn0,
                            Py_ssize_t *mn1);

static PyObject *cisco_fields_py(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "cisco_fields(message: str, protos: dict)");
        return NULL;
    }
    PyObject *msg = args[0];
    if (!PyUnicode_IS_ASCII(msg)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(msg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(msg), f1, mn0, mn1;
    long sev;
    for (Py_ssize_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) Py_RETURN_NONE;
    if (n < 1 || s[0] != '%') Py_RETURN_NONE;
    Py_ssize_t t0 = cisco_tag(s, n, 1, &f1, &sev, &mn0, &mn1);
    if (t0 < 0) Py_RETURN_NONE;
    int fw;
    PyObject *f = cisco_fields(s, n, 1, f1, sev, mn0, mn1, t0, args[1], &fw);
    if (f == NULL) return NULL;
    return Py_BuildValue("(NO)", f, fw ? Py_True : Py_False);
}
#undef AT
#undef FIND
