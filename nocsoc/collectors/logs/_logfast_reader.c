/*
 * _logfast_reader.c (included by _logfast.c): Reader, one line to its finished LogEvent in one call.
 *
 * Why: with every format's reading in C (syslog_line, cisco_line, access_line, audit_record), a
 * line still paid ~1.5-2 us of Python around it: LineParser.events' tests and unpacking, the
 * receive time (recv_time), the event's keyword construction, the route key tuple and the list.
 * A Reader is made once per LineParser (nocsoc.collectors.logs.reader builds it from the
 * dispatcher) and does that glue here, for the lines the C twins read:
 *
 *   - an RFC 3164 line of a program whose first parser has a body twin (sshd, netfilter);
 *   - a Cisco IOS / NX-OS line of cisco_core's forms (with or without `<PRI>`; a file line whose
 *     first character other parsers claim only when each of them refuses it, rd_refused) whose
 *     text cisco_ios reads first (no parser ordered before it has a marker in the message or a
 *     prefix starting it), with its fields (_logfast_cisco.c) and its zone name read by the
 *     input's zones;
 *   - a file line (not network, not `<`) whose first character's parsers the dispatcher tries in
 *     an order walked here: the access line (after Palo Alto's refusal of a line starting with a
 *     digit) and the audit record with auditd's per-input state (SYSCALL kept by serial, EXECVE
 *     joined with it and with its parent).
 *
 * Anything else, and any line the twins decline, gives None: LineParser.events then runs its
 * Python path, which stays the reference (tests/collectors/logs/test_logfast_reader.py compares
 * every slot of the events both paths give). The time is the Python path's to the bit: the
 * epochs of a minute come from syslog._minute_epochs (cached here per minute and zone), the
 * year from syslog.year_span, the clock from time.time looked up on each line (so a test's
 * patched clock is read), and a stamp that path answers without a date (a leap second, an
 * impossible day) is declined.
 *
 * The event is built as LogEvent.__init__ builds it, slot by slot (the reader module checks the
 * class's slots are the ones listed here), with the route key shared by every event of a
 * parser and logsource instead of a new tuple each.
 */

enum { EV_RAW, EV_FIELDS, EV_HOST, EV_TIME, EV_PRODUCT, EV_SERVICES, EV_CATEGORIES, EV_PARSER, EV_SOURCE,
       EV_ROUTE_KEY, EV_LOW, EV_N };
static const char *const EV_SLOTS[EV_N] = {"raw",    "fields", "host",   "time",      "product", "services",
                                           "categories", "parser", "source", "route_key", "_low"};

/* file-line plans by first character */
enum { PLAN_NONE, PLAN_ACCESS, PLAN_ACCESS_AFTER_PALOALTO, PLAN_AUDIT, PLAN_FORTIGATE, PLAN_AUDIT_THEN_FORTIGATE,
       PLAN_CEF, PLAN_SOPHOS, PLAN_FG_CP, PLAN_CP_KV };

#define RD_CACHE 256
#define RD_MAX_TZ 16
#define RD_MAX_ZONES 64

typedef struct {
    long long key;
    double this_, last;
    int has_this, has_last;
} rd_minute;

/* (parser, product, services, categories, route_key) of one kind of event (borrowed from a tuple
 * the reader holds) */
typedef struct {
    PyObject *parser, *product, *services, *categories, *route_key;
} rd_out;

/* a marker table bucketed by first character: the markers starting with byte c are
 * tuple[idx[start[c]:start[c + 1]]] (`ok` 0: more than RD_MAX_MARKERS, every marker is tried at
 * a flagged character, as before). Why: the scan for the markers of the parsers ordered before
 * Cisco's tried each of them at every character some marker starts with (~7% of an ASA line). */
#define RD_MAX_MARKERS 1024
typedef struct {
    unsigned short start[257], idx[RD_MAX_MARKERS];
    int ok;
    /* the markers' distinct first characters when there are at most RD_HEADS (else nheads -1):
     * the scan then looks for each with memchr (an ASA line's `%%`, `IN=`, `pam_`: ~9 instructions
     * a character walked one by one, ~8k on a long FTD line) */
    int nheads;
    unsigned char heads[4];
} rd_buckets;
#define RD_HEADS 4

typedef struct {
    PyObject_HEAD
    PyTypeObject *ev_type;
    Py_ssize_t off[EV_N];
    PyObject *default_host, *tz, *programs, *outputs, *file_outputs, *audit_state, *time_mod, *minute_epochs,
        *year_span, *zone_of, *zones, *protos, *cisco_svc, *sys_aaa, *cisco_routes, *ahead, *prefixes;
    /* Cisco ASA's header-less lines (`%ASA-6-302013: ...`): its tags, the markers and prefixes of
     * the parsers ordered before it, its outputs; NULL: not read here */
    PyObject *asa_tags, *asa_ahead, *asa_prefixes, *asa_outputs;
    /* ... and its own markers and prefixes, for the bodies relayed without the tag or any header
     * (`Group <G> User <U> IP <A> ...`, `Task ran for ...`: rd_asa_bare) */
    PyObject *asa_markers, *asa_own_prefixes;
    /* refused(body) -> bool: every parser ordered before Cisco's among a body's candidates
     * refuses it (set by cisco_refusals); asked for a Cisco body holding one of `ahead`'s markers
     * (an NX-OS `pam_aaa:` text that PAM's parser refuses); NULL: such lines are Python's */
    PyObject *cisco_refused;
    /* LineParser._unknown_zone(name, where): a Cisco stamp's zone name zone_of does not read is
     * counted there and the stamp read in the input's zone, as parse_syslog does; NULL: such
     * lines are Python's */
    PyObject *zone_unknown;
    PyObject *fg_outputs; /* fortigate's outputs (its file lines' plans), or NULL */
    PyObject *pa_outputs; /* paloalto's outputs (the CSV lines of PLAN_ACCESS_AFTER_PALOALTO), or NULL */
    PyObject *cp_outputs; /* checkpoint's outputs (PLAN_CEF), or NULL */
    PyObject *so_outputs; /* sophos' outputs (PLAN_SOPHOS, and after FortiGate's refusal), or NULL */
    /* web's header-less lines whose first character no parser claims (`rdp.acme.com 1.2.3.4 - - [...`,
     * rd_web_bare): the markers and prefixes of the parsers ordered before it, its output; NULL: Python's */
    PyObject *web_ahead, *web_prefixes, *web_out;
    unsigned char web_first[256];
    rd_buckets web_first_b;
    int web_pct; /* cisco_ios's parse_cisco is ahead of web, its one marker `%` left out of web_ahead */
    /* per first character of a file line: 1, its first parser is parse_apache_error; 2, its first is
     * parse_access (PLAN_ACCESS) then parse_nginx_error (rd_web_error); with their outputs, or NULL */
    unsigned char web_err[128];
    PyObject *apache_out, *nginx_err_out;
    /* LineParser._body (a body's Parsed by the registry's dispatch) and the output of an unparsed
     * event, for the header lines whose body no twin reads (rd_body); NULL: Python reads them */
    PyObject *body_fn, *unparsed;
    lx_plan lx; /* the PAM, Junos and generic bodies' plan (_logfast_lx.c); lx.programs NULL: off */
    unsigned char so_after[128]; /* per first character: sophos' parser comes right after FortiGate's */
    int pa_json;          /* a `{` file line's first parser is paloalto's, its JSON twin on (json_event) */
    unsigned char plan[128], line_start[128], first[256], asa_first[256];
    rd_buckets first_b, asa_first_b; /* ahead's and asa_ahead's markers by first character */
    /* per first character of a file line: the refusals (RF_*) of the parsers parse_line tries it
     * with before parse_syslog, for a Cisco line (0: Python reads such lines) */
    unsigned char cisco_refuse[128];
    int cisco, fixed_tz; /* fixed_tz: the input's zone is a fixed offset (datetime.timezone) */
    /* every cisco_asa tag is a marker of a parser ordered before cisco: a body starting with one
     * is never cisco's to read first (rd_cisco would decline it), so rd_asa alone decides */
    int asa_before_cisco;
    PyObject *tzs[RD_MAX_TZ];
    int ntz;
    double y_start, y_end;
    long year;
    rd_minute cache[RD_CACHE];
} Reader;

static PyObject *S_fields, *S_host, *S_product, *S_services, *S_categories, *S_parser, *S_message, *S_program;
static PyObject *S_time, *S_syscalls, *S_procs, *S_remember, *S_move_to_end, *S_popitem, *S_space, *S_exe,
    *S_comm, *S_user_cap, *S_commandline, *S_image, *S_ppid, *S_pid, *S_parent_pid, *S_parent_image,
    *S_parent_cmd, *S_process_id, *S_syslog, *S_sys, *S_syscall_kind, *S_execve_kind;
static const char *const AUDIT_COPY[] = {"pid", "ppid", "uid", "auid", "euid", "comm", "exe", "key", "tty", "ses"};
#define N_AUDIT_COPY 10
static PyObject *S_AUDIT_COPY[N_AUDIT_COPY];

static int rd_out_of(PyObject *t, rd_out *o) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 5) {
        PyErr_SetString(PyExc_TypeError, "Reader: an output is (parser, product, services, categories, route_key)");
        return -1;
    }
    o->parser = PyTuple_GET_ITEM(t, 0), o->product = PyTuple_GET_ITEM(t, 1), o->services = PyTuple_GET_ITEM(t, 2);
    o->categories = PyTuple_GET_ITEM(t, 3), o->route_key = PyTuple_GET_ITEM(t, 4);
    return 0;
}

/* a == b for two tuples of str (services, categories): each item the same object, or the same
 * kind, length and characters (str's equality: PEP 393 keeps one representation of a text),
 * without the generic rich comparison's dispatch (~0.7k instructions a line over a parser's
 * outputs); anything else by PyObject_RichCompareBool. 1, 0 or -1 */
static int rd_same(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    if (!PyTuple_CheckExact(a) || !PyTuple_CheckExact(b)) return PyObject_RichCompareBool(a, b, Py_EQ);
    Py_ssize_t n = PyTuple_GET_SIZE(a);
    if (n != PyTuple_GET_SIZE(b)) return 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *x = PyTuple_GET_ITEM(a, k), *y = PyTuple_GET_ITEM(b, k);
        if (x == y) continue;
        if (!PyUnicode_CheckExact(x) || !PyUnicode_CheckExact(y) || !PyUnicode_IS_READY(x) ||
            !PyUnicode_IS_READY(y)) {
            int eq = PyObject_RichCompareBool(x, y, Py_EQ);
            if (eq <= 0) return eq;
            continue;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(x);
        int kind = PyUnicode_KIND(x);
        if (len != PyUnicode_GET_LENGTH(y) || kind != PyUnicode_KIND(y) ||
            memcmp(PyUnicode_DATA(x), PyUnicode_DATA(y), (size_t)len * (size_t)kind) != 0)
            return 0;
    }
    return 1;
}

/* the output of `outputs` whose services and categories are these: 1 (*o set), 0: none, -1 */
static int rd_out_for(PyObject *outputs, PyObject *svc, PyObject *cat, rd_out *o) {
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(outputs); k++) {
        if (rd_out_of(PyTuple_GET_ITEM(outputs, k), o) < 0) return -1;
        int a = rd_same(o->services, svc);
        int b = a > 0 ? rd_same(o->categories, cat) : a;
        if (a < 0 || b < 0) return -1;
        if (a && b) return 1;
    }
    return 0;
}

#define SLOT(ev, k) (*(PyObject **)((char *)(ev) + r->off[k]))

/* the event LogEvent(raw, fields, host=, time=, product=, services=, categories=, parser=, source=)
 * would be (fields consumed) */
static PyObject *rd_event(Reader *r, PyObject *raw, PyObject *fields, PyObject *host, double t, const rd_out *o,
                          PyObject *source) {
    PyObject *tv = PyFloat_FromDouble(t);
    if (tv == NULL) {
        Py_DECREF(fields);
        return NULL;
    }
    PyObject *ev = r->ev_type->tp_alloc(r->ev_type, 0);
    if (ev == NULL) {
        Py_DECREF(tv);
        Py_DECREF(fields);
        return NULL;
    }
    SLOT(ev, EV_RAW) = Py_NewRef(raw);
    SLOT(ev, EV_FIELDS) = fields;
    SLOT(ev, EV_HOST) = Py_NewRef(host);
    SLOT(ev, EV_TIME) = tv;
    SLOT(ev, EV_PRODUCT) = Py_NewRef(o->product);
    SLOT(ev, EV_SERVICES) = Py_NewRef(o->services);
    SLOT(ev, EV_CATEGORIES) = Py_NewRef(o->categories);
    SLOT(ev, EV_PARSER) = Py_NewRef(o->parser);
    SLOT(ev, EV_SOURCE) = Py_NewRef(source);
    SLOT(ev, EV_ROUTE_KEY) = Py_NewRef(o->route_key);
    SLOT(ev, EV_LOW) = Py_NewRef(Py_None);
    /* Out of the cyclic GC, as CPython leaves a tuple or dict of atomic values: the event holds
     * strings, numbers, None, tuples of strings and a dict of those, so no cycle can run through
     * it (its consumers add only such values: the lowercase cache, `origin`). Why: tracked, each
     * event made the collector's passes over the young generation and, as events pile up in a
     * batch or a window, over the whole heap cost ~0.7 us an event on the bench's mix. */
    PyObject_GC_UnTrack(ev);
    return ev;
}

/* the epochs of a minute in `year` and the year before in `tz` (syslog._minute_epochs, cached
 * here per minute and zone): the cache entry, NULL where the zone table is full (the caller
 * declines; *err set on an error) */
static rd_minute *rd_epochs(Reader *r, long year, long mon, long day, long h, long mi, PyObject *tz, int *err) {
    int tzid = -1;
    *err = 0;
    for (int k = 0; k < r->ntz; k++)
        if (r->tzs[k] == tz) tzid = k;
    if (tzid < 0) {
        if (r->ntz >= RD_MAX_TZ) return NULL;
        tzid = r->ntz;
        r->tzs[r->ntz++] = Py_NewRef(tz);
    }
    long long key = (((((long long)year * 13 + mon) * 100 + day) * 100 + h) * 100 + mi) * RD_MAX_TZ + tzid;
    rd_minute *m = &r->cache[((unsigned long long)key * 0x9E3779B97F4A7C15ULL) >> 56];
    if (m->key != key || key == 0) {
        PyObject *got = PyObject_CallFunction(r->minute_epochs, "lllllO", year, mon, day, h, mi, tz);
        PyObject *a, *b;
        if (got == NULL || !PyArg_ParseTuple(got, "OO", &a, &b)) {
            Py_XDECREF(got);
            *err = 1;
            return NULL;
        }
        m->has_this = a != Py_None, m->has_last = b != Py_None;
        m->this_ = m->has_this ? PyFloat_AsDouble(a) : 0.0;
        m->last = m->has_last ? PyFloat_AsDouble(b) : 0.0;
        Py_DECREF(got);
        if (PyErr_Occurred()) {
            *err = 1;
            return NULL;
        }
        m->key = key;
    }
    return m;
}

/* time.time(), looked up on each call (a test's patched clock is read): 0, or -1 on error */
static int rd_clock(Reader *r, double *out) {
    PyObject *now = PyObject_CallMethodNoArgs(r->time_mod, S_time);
    *out = now != NULL ? PyFloat_AsDouble(now) : -1.0;
    Py_XDECREF(now);
    return now == NULL || (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* syslog._bsd_time(month, day, h, mi, s, frac, None, time.time(), tz) (recv_time with frac 0.0):
 * 1 with *out set, 0 where that path answers without a date (the caller declines), -1 on error */
static int rd_time(Reader *r, long mon, long day, long h, long mi, long s, double frac, PyObject *tz, double *out) {
    if (s > 59) return 0; /* a leap second: resolve_year's datetime refuses it */
    PyObject *clock = PyObject_GetAttr(r->time_mod, S_time);
    PyObject *nowo = clock != NULL ? PyObject_CallNoArgs(clock) : NULL;
    Py_XDECREF(clock);
    if (nowo == NULL) return -1;
    double now = PyFloat_AsDouble(nowo);
    Py_DECREF(nowo);
    if (now == -1.0 && PyErr_Occurred()) return -1;
    if (!(r->y_start <= now && now < r->y_end)) { /* (start, end, year) of now's UTC year */
        PyObject *span = PyObject_CallFunction(r->year_span, "d", now);
        if (span == NULL) return -1;
        if (!PyArg_ParseTuple(span, "ddl", &r->y_start, &r->y_end, &r->year)) {
            Py_DECREF(span);
            return -1;
        }
        Py_DECREF(span);
        if (!(r->y_start <= now && now < r->y_end)) return 0;
    }
    int err;
    rd_minute *m = rd_epochs(r, r->year, mon, day, h, mi, tz, &err);
    if (m == NULL) return err ? -1 : 0;
    if (m->has_this && m->this_ + (double)s - now <= 86400.0) {
        *out = m->this_ + (double)s + frac;
    } else if (m->has_last && m->last + (double)s - now <= 86400.0) {
        *out = m->last + (double)s + frac;
    } else if (m->has_this) {
        *out = m->this_ + (double)s + frac;
    } else {
        return 0; /* no such date either year: the receive time stands (Python says so) */
    }
    return 1;
}

/* syslog._parse_bsd_ts's time of a stamp with its year: datetime(year, ..., tzinfo=tz).timestamp()
 * + frac, here the epoch of its minute plus its seconds (exact in a fixed-offset zone, the only
 * kind read here). 1 with *out set, 0 where that path takes the receive time (an impossible
 * date, a leap second, a year a zone could take past what a datetime holds) or the zone is not
 * a fixed offset (the caller declines), -1 on error */
static int rd_dated(Reader *r, long year, long mon, long day, long h, long mi, long s, double frac, PyObject *tz,
                    int fixed, double *out) {
    if (!fixed || s > 59 || year < 2 || year > 9998) return 0;
    int err;
    rd_minute *m = rd_epochs(r, year, mon, day, h, mi, tz, &err);
    if (m == NULL) return err ? -1 : 0;
    if (!m->has_this) return 0;
    *out = m->this_ + (double)s + frac;
    return 1;
}

/* AuditdState.keep(table, key, value): set, move to the end, drop the oldest past `remember` */
static int rd_keep(PyObject *st, PyObject *name, PyObject *key, PyObject *value) {
    PyObject *table = PyObject_GetAttr(st, name), *rem = table ? PyObject_GetAttr(st, S_remember) : NULL;
    if (rem == NULL) {
        Py_XDECREF(table);
        return -1;
    }
    int rc = -1;
    int present = PyDict_Contains(table, key);
    if (present < 0 || PyObject_SetItem(table, key, value) < 0) goto done;
    if (present) {
        PyObject *x = PyObject_CallMethodOneArg(table, S_move_to_end, key);
        if (x == NULL) goto done;
        Py_DECREF(x);
    }
    Py_ssize_t size = PyObject_Length(table);
    if (size < 0) goto done;
    PyObject *more = PyLong_FromSsize_t(size);
    if (more == NULL) goto done;
    int over = PyObject_RichCompareBool(more, rem, Py_GT);
    Py_DECREF(more);
    if (over < 0) goto done;
    if (over) {
        PyObject *x = PyObject_CallMethodOneArg(table, S_popitem, Py_False);
        if (x == NULL) goto done;
        Py_DECREF(x);
    }
    rc = 0;
done:
    Py_DECREF(rem);
    Py_DECREF(table);
    return rc;
}

/* auditd._with_state on audit_record's reading g (kind, serial, ts, node, fields, kv, user, args):
 * 1 with *process_creation set, 0 to decline (before any change to the state), -1 on error */
static int rd_audit_state(Reader *r, PyObject *g, int *process_creation) {
    PyObject *kind = PyTuple_GET_ITEM(g, 0), *serial = PyTuple_GET_ITEM(g, 1), *fields = PyTuple_GET_ITEM(g, 4),
             *kv = PyTuple_GET_ITEM(g, 5), *user = PyTuple_GET_ITEM(g, 6), *args = PyTuple_GET_ITEM(g, 7);
    PyObject *st = r->audit_state;
    *process_creation = 0;
    if (PyUnicode_Compare(kind, S_syscall_kind) == 0) {
        PyObject *keys[2] = {S_exe, S_comm};
        for (int k = 0; k < 2; k++) { /* kv keeps the decoded exe and comm for the EXECVE */
            PyObject *v = PyDict_GetItemWithError(fields, keys[k]);
            if (v == NULL) {
                if (PyErr_Occurred()) return -1;
                continue;
            }
            PyObject *sv = PyObject_Str(v);
            if (sv == NULL) return -1;
            int rc = PyDict_SetItem(kv, keys[k], sv);
            Py_DECREF(sv);
            if (rc < 0) return -1;
        }
        if (user != Py_None && PyDict_SetItem(kv, S_user_cap, user) < 0) return -1;
        return rd_keep(st, S_syscalls, serial, kv) < 0 ? -1 : 1;
    }
    if (PyUnicode_Compare(kind, S_execve_kind) != 0 || args == Py_None) return PyErr_Occurred() ? -1 : 1;
    PyObject *syscalls = PyObject_GetAttr(st, S_syscalls);
    if (syscalls == NULL) return -1;
    PyObject *sc = PyDict_GetItemWithError(syscalls, serial); /* borrowed: syscalls holds it below */
    if (sc == NULL && PyErr_Occurred()) {
        Py_DECREF(syscalls);
        return -1;
    }
    if (sc != NULL && !PyDict_Check(sc)) { /* not a record's dict: Python says what happens */
        Py_DECREF(syscalls);
        return 0;
    }
    int has_sc = sc != NULL && PyDict_GET_SIZE(sc) > 0;
    PyObject *parent = NULL, *procs = NULL, *ppid = NULL, *pid = NULL;
    if (has_sc && (ppid = PyDict_GetItemWithError(sc, S_ppid)) != NULL) {
        procs = PyObject_GetAttr(st, S_procs);
        if (procs == NULL) goto fail;
        parent = PyDict_GetItemWithError(procs, ppid);
        if (parent == NULL && PyErr_Occurred()) goto fail;
        if (parent != NULL && !(PyTuple_CheckExact(parent) && PyTuple_GET_SIZE(parent) == 2)) {
            Py_DECREF(procs);
            Py_DECREF(syscalls);
            return 0;
        }
    }
    if (PyErr_Occurred()) goto fail;
    PyObject *cmdline = PyUnicode_Join(S_space, args);
    if (cmdline == NULL || PyDict_SetItem(fields, S_commandline, cmdline) < 0) {
        Py_XDECREF(cmdline);
        goto fail;
    }
    PyObject *image = sc != NULL ? PyDict_GetItemWithError(sc, S_exe) : NULL;
    if (image == NULL && PyErr_Occurred()) goto fail_cmd;
    int truthy = image != NULL ? PyObject_IsTrue(image) : 0;
    if (truthy < 0) goto fail_cmd;
    if (!truthy) image = PyList_GET_SIZE(args) > 0 ? PyList_GET_ITEM(args, 0) : STR[V_EMPTY];
    Py_INCREF(image);
    if (PyDict_SetItem(fields, S_image, image) < 0) goto fail_image;
    if (has_sc) {
        for (int k = 0; k < N_AUDIT_COPY; k++) {
            PyObject *v = PyDict_GetItemWithError(sc, S_AUDIT_COPY[k]);
            if (v == NULL) {
                if (PyErr_Occurred()) goto fail_image;
                continue;
            }
            if (PyDict_SetDefault(fields, S_AUDIT_COPY[k], v) == NULL) goto fail_image;
        }
        PyObject *u = PyDict_GetItemWithError(sc, S_user_cap);
        if (u == NULL && PyErr_Occurred()) goto fail_image;
        if (u != NULL && PyDict_SetItem(fields, S_user_cap, u) < 0) goto fail_image;
        pid = PyDict_GetItemWithError(sc, S_pid);
        if (pid == NULL && PyErr_Occurred()) goto fail_image;
        if (ppid != NULL) {
            if (PyDict_SetItem(fields, S_parent_pid, ppid) < 0) goto fail_image;
            if (parent != NULL && (PyDict_SetItem(fields, S_parent_image, PyTuple_GET_ITEM(parent, 0)) < 0 ||
                                   PyDict_SetItem(fields, S_parent_cmd, PyTuple_GET_ITEM(parent, 1)) < 0))
                goto fail_image;
        }
        if (pid != NULL) {
            if (PyDict_SetItem(fields, S_process_id, pid) < 0) goto fail_image;
            PyObject *proc = PyTuple_Pack(2, image, cmdline);
            if (proc == NULL) goto fail_image;
            Py_INCREF(pid); /* (keep may drop sc's record, and pid with it) */
            int rc = rd_keep(st, S_procs, pid, proc);
            Py_DECREF(pid);
            Py_DECREF(proc);
            if (rc < 0) goto fail_image;
        }
    }
    Py_DECREF(image);
    Py_DECREF(cmdline);
    Py_XDECREF(procs);
    Py_DECREF(syscalls);
    *process_creation = 1;
    return 1;
fail_image:
    Py_DECREF(image);
fail_cmd:
    Py_DECREF(cmdline);
fail:
    Py_XDECREF(procs);
    Py_DECREF(syscalls);
    return -1;
}

/* the zone a Cisco timestamp names (zones.zone with the input's zone_names, cached): a new
 * reference, Py_None for a name it does not read, NULL on error */
static PyObject *rd_zone(Reader *r, PyObject *name) {
    PyObject *tz = PyDict_GetItemWithError(r->zones, name);
    if (tz != NULL) return Py_NewRef(tz);
    if (PyErr_Occurred()) return NULL;
    tz = PyObject_CallOneArg(r->zone_of, name);
    if (tz == NULL) return NULL;
    if (PyDict_GET_SIZE(r->zones) < RD_MAX_ZONES && PyDict_SetItem(r->zones, name, tz) < 0) {
        Py_DECREF(tz);
        return NULL;
    }
    return tz;
}

/* b: the non-empty ASCII markers of `ahead` (or NULL: none) by first character (a counting sort) */
static void rd_bucket(rd_buckets *b, PyObject *ahead) {
    memset(b, 0, sizeof *b);
    Py_ssize_t na = ahead != NULL ? PyTuple_GET_SIZE(ahead) : 0;
    b->ok = na <= RD_MAX_MARKERS;
    if (!b->ok) return;
    unsigned short fill[256] = {0};
    for (Py_ssize_t k = 0; k < na; k++)
        b->start[(unsigned char)PyUnicode_READ_CHAR(PyTuple_GET_ITEM(ahead, k), 0) + 1]++;
    for (int c = 0; c < 256; c++) b->start[c + 1] = (unsigned short)(b->start[c + 1] + b->start[c]);
    for (Py_ssize_t k = 0; k < na; k++) {
        unsigned char c = (unsigned char)PyUnicode_READ_CHAR(PyTuple_GET_ITEM(ahead, k), 0);
        b->idx[b->start[c] + fill[c]++] = (unsigned short)k;
    }
    for (int c = 0; c < 256 && b->nheads >= 0; c++) {
        if (b->start[c + 1] == b->start[c]) continue;
        if (b->nheads == RD_HEADS) b->nheads = -1;
        else b->heads[b->nheads++] = (unsigned char)c;
    }
}

/* Dispatcher.leads(name, msg) for ASCII msg: no marker of a parser ordered before `name` in it
 * (`ahead`, their first characters flagged in `first`), none of their `prefixes` starting it */
static int rd_leads_of(const char *m, Py_ssize_t n, PyObject *ahead, PyObject *prefixes, const unsigned char *first,
                       const rd_buckets *b) {
    Py_ssize_t np = PyTuple_GET_SIZE(prefixes), na = PyTuple_GET_SIZE(ahead);
    for (Py_ssize_t k = 0; k < np; k++) {
        PyObject *p = PyTuple_GET_ITEM(prefixes, k);
        Py_ssize_t pn = PyUnicode_GET_LENGTH(p);
        if (pn <= n && memcmp(m, PyUnicode_DATA(p), (size_t)pn) == 0) return 0;
    }
    if (b->ok && b->nheads >= 0) {
        for (int h = 0; h < b->nheads; h++) {
            unsigned char c = b->heads[h];
            for (const char *q = memchr(m, c, (size_t)n); q != NULL; q = memchr(q + 1, c, (size_t)(m + n - q - 1))) {
                Py_ssize_t i = q - m;
                for (unsigned j = b->start[c]; j < b->start[c + 1]; j++) {
                    PyObject *w = PyTuple_GET_ITEM(ahead, b->idx[j]);
                    Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
                    if (wn <= n - i && memcmp(m + i, PyUnicode_DATA(w), (size_t)wn) == 0) return 0;
                }
                if (q + 1 >= m + n) break;
            }
        }
        return 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m[i];
        if (!first[c]) continue;
        if (b->ok) {
            for (unsigned j = b->start[c]; j < b->start[c + 1]; j++) {
                PyObject *w = PyTuple_GET_ITEM(ahead, b->idx[j]);
                Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
                if (wn <= n - i && memcmp(m + i, PyUnicode_DATA(w), (size_t)wn) == 0) return 0;
            }
            continue;
        }
        for (Py_ssize_t k = 0; k < na; k++) {
            PyObject *w = PyTuple_GET_ITEM(ahead, k);
            Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
            const char *ws = (const char *)PyUnicode_DATA(w);
            if (ws[0] == m[i] && wn <= n - i && memcmp(m + i, ws, (size_t)wn) == 0) return 0;
        }
    }
    return 1;
}

static int rd_leads(Reader *r, const char *m, Py_ssize_t n) {
    return rd_leads_of(m, n, r->ahead, r->prefixes, r->first, &r->first_b);
}

/* parse_syslog's time of a stamp cisco_core read (its zone through zone_of, else the input's),
 * LineParser's receive time for an undated line: 1 with *t set, 0 where the C declines (a zone
 * name it cannot count, a date Python reads otherwise), -1 on an error. *unknown: the zone name
 * parse_syslog reports unknown (a new reference for rd_count_zone), or NULL. Why: a zone name
 * such as `CST` (ambiguous) sent every line of a US device to the general path, ~35 us a line. */
static int rd_stamp(Reader *r, const char *s, const cisco_t *c, double *t, PyObject **unknown) {
    PyObject *tz = r->tz, *zone = NULL;
    *unknown = NULL;
    if (c->z0 >= 0) {
        PyObject *name = ascii_sub(s, c->z0, c->z1);
        if (name == NULL) return -1;
        zone = rd_zone(r, name);
        if (zone == NULL) {
            Py_DECREF(name);
            return -1;
        }
        if (zone == Py_None) {
            /* _header_zone: a name that is no zone but looks like one (upper case, cisco_stamp's
             * `[A-Z]+`, with its `:`) is reported, the stamp read in the input's zone */
            Py_CLEAR(zone);
            if (r->zone_unknown == NULL) {
                Py_DECREF(name);
                return 0;
            }
            *unknown = name;
        } else {
            Py_DECREF(name);
            tz = zone;
        }
    }
    int tok;
    if (!c->dated) { /* parse_syslog's time.time() */
        tok = rd_clock(r, t) < 0 ? -1 : 1;
    } else if (c->year >= 0) {
        tok = rd_dated(r, c->year, c->month, c->day, c->hms[0], c->hms[1], c->hms[2], c->frac, tz,
                       zone != NULL || r->fixed_tz, t);
    } else {
        tok = rd_time(r, c->month, c->day, c->hms[0], c->hms[1], c->hms[2], c->frac, tz, t);
    }
    Py_XDECREF(zone);
    if (tok <= 0) Py_CLEAR(*unknown);
    return tok;
}

/* LineParser.parse_syslog's count of an unknown zone name (consumed): 0, or -1 on an error */
static int rd_count_zone(Reader *r, PyObject *unknown, PyObject *where) {
    if (unknown == NULL) return 0;
    PyObject *got = PyObject_CallFunctionObjArgs(r->zone_unknown, unknown, where, NULL);
    Py_DECREF(unknown);
    Py_XDECREF(got);
    return got == NULL ? -1 : 0;
}

/* s[0:n] starts with one of the (ASCII) texts of `words` */
static int rd_starts(const char *s, Py_ssize_t n, PyObject *words) {
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(words); k++) {
        PyObject *w = PyTuple_GET_ITEM(words, k);
        Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
        if (wn <= n && memcmp(s, PyUnicode_DATA(w), (size_t)wn) == 0) return 1;
    }
    return 0;
}

/* a printable ASCII line without the common header that parse_syslog keeps whole as the body
 * (no `<PRI>`, no stamp, no `host: ` prefix: it starts with a space, or with a letter, not a
 * month's name, and a first word followed by no `:`), that is not rsyslog's `message repeated`,
 * and whose body cisco_asa is a candidate for (one of its markers in it, or one of its prefixes
 * starting it) */
static int rd_asa_bare(Reader *r, const char *s, Py_ssize_t n) {
    if (s[0] != ' ') {
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) || month_at(s, n, 0)) return 0;
        Py_ssize_t k = 1;
        while (k < n && is_key_char((unsigned char)s[k])) k++;
        if (k < n && s[k] == ':') return 0;
    }
    if (n >= 17 && memcmp(s, "message repeated ", 17) == 0) return 0;
    if (rd_starts(s, n, r->asa_own_prefixes)) return 1;
    for (Py_ssize_t m = 0; m < PyTuple_GET_SIZE(r->asa_markers); m++) {
        PyObject *w = PyTuple_GET_ITEM(r->asa_markers, m);
        Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
        const char *ws = (const char *)PyUnicode_DATA(w);
        for (const char *p = s, *last = s + n - wn; p <= last; p++) {
            p = memchr(p, ws[0], (size_t)(last - p + 1));
            if (p == NULL) break;
            if (memcmp(p, ws, (size_t)wn) == 0) return 1;
        }
    }
    return 0;
}

/* LineParser.events' event for a printable line (without the common header) whose body is
 * cisco_asa's: the body is the whole line when it starts with one of cisco_asa's tags or is a
 * bare one (rd_asa_bare), else what follows a stamp cisco_core reads (`Jun 07 2025 17:31:57:
 * %ASA-6-113005: ...`, `<166>Nov 09 2022 10:01:59: %ASA-...`, `fw: Mar  1 ...: %ASA-...`) when
 * it starts with one of the tags; parse_syslog's host and time (the receive time without a
 * stamp), then the registry's candidates, cisco_asa's first when no parser ordered before it
 * claims the body; then parse_asa, here its C twin. None for any other line. `sent`: a line
 * that names no host is the sender's (a network message, a `<PRI>` line), else the input's. */
static PyObject *rd_asa(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *sender, PyObject *source,
                        int sent) {
    cisco_t c;
    c.h0 = -1, c.m0 = 0, c.dated = 0, c.z0 = -1;
    if (!rd_starts(s, n, r->asa_tags) && !rd_asa_bare(r, s, n)) {
        int got = cisco_core(s, n, &c);
        if (got <= 0) {
            if (got < 0) return NULL;
            Py_RETURN_NONE;
        }
        if (!rd_starts(s + c.m0, n - c.m0, r->asa_tags)) Py_RETURN_NONE;
    }
    if (!rd_leads_of(s + c.m0, n - c.m0, r->asa_ahead, r->asa_prefixes, r->asa_first, &r->asa_first_b)) Py_RETURN_NONE;
    PyObject *msg = c.m0 > 0 ? ascii_sub(s, c.m0, n) : Py_NewRef(text);
    if (msg == NULL) return NULL;
    PyObject *got = fw_asa_line(NULL, msg);
    Py_DECREF(msg);
    if (got == NULL) return NULL;
    if (!PyTuple_Check(got)) { /* False (parse_asa gives None: another parser reads it) or None */
        Py_DECREF(got);
        Py_RETURN_NONE;
    }
    PyObject *fields = PyTuple_GET_ITEM(got, 0), *svc = PyTuple_GET_ITEM(got, 1), *cat = PyTuple_GET_ITEM(got, 2);
    PyObject *unknown = NULL, *host = NULL, *ev = NULL;
    rd_out o;
    int found = rd_out_for(r->asa_outputs, svc, cat, &o);
    if (found <= 0) { /* (none: a logsource the spec does not declare, Python's event says what it is) */
        Py_DECREF(got);
        if (found < 0) return NULL;
        Py_RETURN_NONE;
    }
    double t;
    int tok = rd_stamp(r, s, &c, &t, &unknown);
    if (tok <= 0) {
        Py_DECREF(got);
        if (tok < 0) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *where = sent && PyUnicode_GET_LENGTH(sender) > 0 ? sender : r->default_host;
    host = c.h0 >= 0 ? ascii_sub(s, c.h0, c.h1) : Py_NewRef(where);
    if (host == NULL || rd_count_zone(r, unknown, where) < 0) {
        if (host == NULL) Py_XDECREF(unknown);
        Py_XDECREF(host);
        Py_DECREF(got);
        return NULL;
    }
    ev = rd_event(r, text, Py_NewRef(fields), host, t, &o, source);
    Py_DECREF(host);
    Py_DECREF(got);
    return ev;
}

/* The refusals of the parsers a file line's first character is tried with before parse_syslog
 * (reader.py's _REFUSALS; the mask per character from the dispatcher), repeated for a line the
 * Cisco walk read (its first character alphanumeric, `*`, `.` or `%`): 1 when each of them
 * refuses it, so that parse_line goes on to parse_syslog; 0 when one might read it. */
enum { RF_PALOALTO = 1, RF_FORTIGATE = 2, RF_CHECKPOINT = 4, RF_ACCESS = 8, RF_IIS = 16, RF_NGINX_ERROR = 32,
       RF_ALL = 63 };

static int rd_refused(const char *s, Py_ssize_t n, int mask) {
    Py_ssize_t n40 = n < 40 ? n : 40, n60 = n < 60 ? n : 60;
    /* parse_paloalto: no `,` second (its CSV), no CEF label in the first 60 (its CEF), no `{` or `:` first */
    if ((mask & RF_PALOALTO) &&
        ((n > 1 && s[1] == ',') || s[0] == '{' || s[0] == ':' || has(s, n60, "|Palo Alto Networks|")))
        return 0;
    /* parse_fortigate: none of `logid`, `log_id`, `subtype=`, nor its CEF label in the first 40 */
    if ((mask & RF_FORTIGATE) &&
        (has(s, n, "logid") || has(s, n, "log_id") || has(s, n, "subtype=") || has(s, n40, "|Fortinet|")))
        return 0;
    /* parse_checkpoint: no CEF label in the first 40, no `syslog[` or `"` first, no `origin:"` */
    if ((mask & RF_CHECKPOINT) && (s[0] == '"' || (n >= 7 && memcmp(s, "syslog[", 7) == 0) ||
                                   has(s, n, "origin:\"") || has(s, n40, "|Check Point|")))
        return 0;
    /* parse_access: its every form quotes the request */
    if ((mask & RF_ACCESS) && memchr(s, '"', (size_t)n) != NULL) return 0;
    if (mask & RF_IIS) { /* parse_iis: `#` first, _IIS_NATIVE's `[0-9A-Fa-f:.]+, `, _W3C_LINE's `dddd-` */
        Py_ssize_t k = 0;
        while (k < n && (cx_hex(s[k]) || s[k] == ':' || s[k] == '.')) k++;
        if (s[0] == '#' || (k > 0 && k < n && s[k] == ',') || four_digits(s, n, 0, '-') >= 0) return 0;
    }
    /* parse_nginx_error: _NGINX_ERR's `dddd/` */
    if ((mask & RF_NGINX_ERROR) && four_digits(s, n, 0, '/') >= 0) return 0;
    return 1;
}

/* LineParser.events' event for a Cisco line (cisco_core's forms) whose message cisco_ios reads
 * first: parse_syslog's host and time, cisco_parsed's fields; None where it declines. `sent`:
 * the line's host, when it names none, is the sender's (a network message, a `<PRI>` line), else
 * the input's; `refuse`: the refusals to repeat first (a file line whose first character's
 * parsers parse_line tries before parse_syslog) */
static PyObject *rd_cisco(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *sender,
                          PyObject *source, int sent, int refuse) {
    cisco_t c;
    int got = cisco_core(s, n, &c);
    if (got <= 0) {
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    if (refuse && !rd_refused(s, n, refuse)) Py_RETURN_NONE;
    if (!rd_leads(r, s + c.m0, n - c.m0)) { /* a parser ahead may claim it: read here if they all refuse */
        /* (a body starting with an ASA tag is cisco_asa's to read: rd_asa next, without asking) */
        if (r->cisco_refused == NULL || (r->asa_tags != NULL && rd_starts(s + c.m0, n - c.m0, r->asa_tags)))
            Py_RETURN_NONE;
        PyObject *body = ascii_sub(s, c.m0, n);
        if (body == NULL) return NULL;
        PyObject *ok = PyObject_CallOneArg(r->cisco_refused, body);
        Py_DECREF(body);
        if (ok == NULL) return NULL;
        int yes = ok == Py_True;
        Py_DECREF(ok);
        if (!yes) Py_RETURN_NONE;
    }
    double t = 0;
    PyObject *fields = NULL, *fac = NULL, *svc = NULL, *host = NULL, *ev = NULL, *unknown = NULL;
    int fw = 0;
    int tok = rd_stamp(r, s, &c, &t, &unknown);
    if (tok <= 0) {
        if (tok < 0) return NULL;
        Py_RETURN_NONE;
    }
    fields = cisco_fields(s, n, c.f0, c.f1, c.sev, c.mn0, c.mn1, c.t0, r->protos, &fw);
    if (fields == NULL) goto fail;
    /* the service: _CISCO_SVC by facility, else by its first segment; SYS only for _SYS_AAA */
    fac = PyDict_GetItemWithError(fields, CSTR[CK_FACILITY]);
    if (fac == NULL) goto fail;
    svc = PyDict_GetItemWithError(r->cisco_svc, fac);
    if (svc == NULL) {
        if (PyErr_Occurred()) goto fail;
        Py_ssize_t d = c.f0;
        while (d < c.f1 && s[d] != '-') d++;
        PyObject *first = ascii_sub(s, c.f0, d);
        if (first == NULL) goto fail;
        svc = PyDict_GetItemWithError(r->cisco_svc, first);
        Py_DECREF(first);
        if (svc == NULL && PyErr_Occurred()) goto fail;
        if (svc == NULL) svc = S_syslog;
    }
    if (c.f1 - c.f0 == 3 && memcmp(s + c.f0, "SYS", 3) == 0) {
        PyObject *mn = PyDict_GetItemWithError(fields, CSTR[CK_MNEMONIC]);
        if (mn == NULL) goto fail;
        int aaa = PySequence_Contains(r->sys_aaa, mn);
        if (aaa < 0) goto fail;
        if (!aaa) svc = S_syslog;
    }
    PyObject *routes = PyDict_GetItemWithError(r->cisco_routes, svc); /* (plain, firewall) outputs */
    if (routes == NULL) {
        if (PyErr_Occurred()) goto fail;
        goto decline;
    }
    rd_out o;
    if (!PyTuple_Check(routes) || PyTuple_GET_SIZE(routes) != 2 || rd_out_of(PyTuple_GET_ITEM(routes, fw), &o) < 0)
        goto fail;
    PyObject *where = sent && PyUnicode_GET_LENGTH(sender) > 0 ? sender : r->default_host;
    host = c.h0 >= 0 ? ascii_sub(s, c.h0, c.h1) : Py_NewRef(where);
    if (host == NULL) goto fail;
    int counted = rd_count_zone(r, unknown, where);
    unknown = NULL;
    if (counted < 0) {
        Py_DECREF(host);
        goto fail;
    }
    ev = rd_event(r, text, fields, host, t, &o, source);
    fields = NULL;
    Py_DECREF(host);
    return ev;
decline:
    Py_XDECREF(fields);
    Py_XDECREF(unknown);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(fields);
    Py_XDECREF(unknown);
    return NULL;
}

/* parse_line's event for a file line whose first parser is fortigate's (fortigate_line's reading:
 * fields, services, categories, time or None, host): at the line's own time, else at the
 * receive time parse_line takes (time.time()); None where the twin leaves the line to Python */
static PyObject *rd_fortigate_got(Reader *r, PyObject *text, PyObject *got, PyObject *source);

static PyObject *rd_fortigate(Reader *r, PyObject *text, PyObject *source) {
    if (r->fg_outputs == NULL) Py_RETURN_NONE;
    PyObject *got = fw_fortigate_line(NULL, text);
    return got != NULL ? rd_fortigate_got(r, text, got, source) : NULL;
}

/* the event of fortigate_line's or fortigate_cef's reading `got` (consumed), or None */
static PyObject *rd_fortigate_got(Reader *r, PyObject *text, PyObject *got, PyObject *source) {
    rd_out o;
    int found = 0;
    double t = 0;
    if (PyTuple_Check(got) && PyTuple_GET_SIZE(got) == 5) {
        PyObject *tv = PyTuple_GET_ITEM(got, 3);
        if (PyFloat_CheckExact(tv) || tv == Py_None)
            found = rd_out_for(r->fg_outputs, PyTuple_GET_ITEM(got, 1), PyTuple_GET_ITEM(got, 2), &o);
        if (found > 0) {
            if (tv != Py_None)
                t = PyFloat_AS_DOUBLE(tv);
            else if (rd_clock(r, &t) < 0)
                found = -1;
        }
    }
    if (found <= 0) { /* False, None, or a logsource the spec does not declare */
        Py_DECREF(got);
        if (found < 0) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *host = PyTuple_GET_ITEM(got, 4); /* p.host or the input's default */
    if (!PyUnicode_Check(host) || PyUnicode_GET_LENGTH(host) == 0) host = r->default_host;
    PyObject *ev = rd_event(r, text, Py_NewRef(PyTuple_GET_ITEM(got, 0)), host, t, &o, source);
    Py_DECREF(got);
    return ev;
}

static PyObject *rd_fields_got(Reader *r, PyObject *text, PyObject *got, PyObject *outputs, PyObject *source);

/* parse_line's event for a file line whose first parser is paloalto's and that its CSV twin reads
 * (paloalto_line: fields, services, categories), received now (time.time()); None otherwise */
static PyObject *rd_paloalto(Reader *r, PyObject *text, PyObject *source) {
    if (r->pa_outputs == NULL) Py_RETURN_NONE;
    PyObject *got = fw_paloalto_line(NULL, text);
    return got != NULL ? rd_fields_got(r, text, got, r->pa_outputs, source) : NULL;
}

/* parse_line's event for a file line whose parser, now, is sophos' (first, or after FortiGate's
 * refusal) and that its twin reads (sophos_line: fields, services, categories), received now;
 * None otherwise (its False: parse_sophos refuses, the general path goes on in Python) */
static PyObject *rd_sophos(Reader *r, PyObject *text, PyObject *source) {
    if (r->so_outputs == NULL) Py_RETURN_NONE;
    PyObject *got = fw_sophos_line(NULL, text);
    return got != NULL ? rd_fields_got(r, text, got, r->so_outputs, source) : NULL;
}

/* A twin's services undeclared by its parser's logsources (Check Point's blade `HTTPS
 * Inspection`: https_inspection; Sophos' log type `SD-WAN`: sd-wan): the output LogEvent gives
 * the parser's Parsed (parser and product both `checkpoint`, or both `sophos`, as each module
 * always names them; the twin's services and categories; route key the three), so that the
 * line is built here rather than declined to the whole Python way (~25 us). 1 (*o set, *key a
 * new reference), 0 (other outputs), -1 */
static int rd_undeclared(Reader *r, PyObject *outputs, PyObject *svc, PyObject *cat, rd_out *o, PyObject **key) {
    const char *name = outputs == r->cp_outputs ? "checkpoint" : outputs == r->so_outputs ? "sophos" : NULL;
    if (name == NULL || PyTuple_GET_SIZE(outputs) == 0) return 0;
    if (rd_out_of(PyTuple_GET_ITEM(outputs, 0), o) < 0) return -1;
    if (!PyUnicode_Check(o->parser) || !PyUnicode_Check(o->product) ||
        PyUnicode_CompareWithASCIIString(o->parser, name) != 0 ||
        PyUnicode_CompareWithASCIIString(o->product, name) != 0 || !PyTuple_CheckExact(svc) || !PyTuple_CheckExact(cat))
        return 0;
    *key = PyTuple_Pack(3, o->product, svc, cat);
    if (*key == NULL) return -1;
    o->services = svc, o->categories = cat, o->route_key = *key;
    return 1;
}

/* the event (received now, at the input's host) of a twin's reading `got` (consumed): (fields,
 * services, categories) with a logsource of `outputs` (or an undeclared one: rd_undeclared);
 * None for anything else */
static PyObject *rd_fields_got(Reader *r, PyObject *text, PyObject *got, PyObject *outputs, PyObject *source) {
    rd_out o;
    int found = 0;
    double t = 0;
    PyObject *key = NULL;
    if (PyTuple_Check(got) && PyTuple_GET_SIZE(got) == 3 && PyDict_CheckExact(PyTuple_GET_ITEM(got, 0))) {
        found = rd_out_for(outputs, PyTuple_GET_ITEM(got, 1), PyTuple_GET_ITEM(got, 2), &o);
        if (found == 0) found = rd_undeclared(r, outputs, PyTuple_GET_ITEM(got, 1), PyTuple_GET_ITEM(got, 2), &o, &key);
        if (found > 0 && rd_clock(r, &t) < 0) found = -1;
    }
    if (found <= 0) {
        Py_XDECREF(key);
        Py_DECREF(got);
        if (found < 0) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *ev = rd_event(r, text, Py_NewRef(PyTuple_GET_ITEM(got, 0)), r->default_host, t, &o, source);
    Py_XDECREF(key);
    Py_DECREF(got);
    return ev;
}

/* twin(ext, the header fields `which`...) on a CEF line's reading, a new reference, or NULL */
static PyObject *rd_cef_twin(PyObject *(*twin)(PyObject *, PyObject *), const char *s, Py_ssize_t n,
                             const cef_t *c, const int *which, int nwhich) {
    PyObject *args = PyTuple_New(1 + nwhich);
    if (args == NULL) return NULL;
    PyObject *ext = cef_ext_core(s + c->ext, n - c->ext);
    if (ext == NULL) {
        Py_DECREF(args);
        return NULL;
    }
    PyTuple_SET_ITEM(args, 0, ext);
    for (int k = 0; k < nwhich; k++) {
        PyObject *v = ascii_sub(s, c->a[which[k]], c->b[which[k]]);
        if (v == NULL) {
            Py_DECREF(args);
            return NULL;
        }
        PyTuple_SET_ITEM(args, 1 + k, v);
    }
    PyObject *got = twin(NULL, args);
    Py_DECREF(args);
    return got;
}

/* span(the extension, the header fields `which` (at most 3)) on a CEF line's reading: its walk in
 * one pass (fw_fortigate_cef_span, fw_checkpoint_cef_span), or on its Py_NotImplemented twin's
 * (rd_cef_twin); a new reference, or NULL */
static PyObject *rd_cef_span(PyObject *(*span)(const char *, Py_ssize_t, PyObject *const *),
                             PyObject *(*twin)(PyObject *, PyObject *), const char *s, Py_ssize_t n, const cef_t *c,
                             const int *which, int nwhich) {
    PyObject *head[3];
    int k = 0;
    for (; k < nwhich; k++)
        if ((head[k] = ascii_sub(s, c->a[which[k]], c->b[which[k]])) == NULL) break;
    PyObject *got = k == nwhich ? span(s + c->ext, n - c->ext, head) : NULL;
    while (k > 0) Py_DECREF(head[--k]);
    if (got == Py_NotImplemented) {
        Py_DECREF(got);
        got = rd_cef_twin(twin, s, n, c, which, nwhich);
    }
    return got;
}

static PyObject *rd_fg_cp(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *source, int checked);

/* parse_line's event for a Check Point `syslog[key:"value"; ...]` file line (PLAN_CP_KV: its parser
 * first for the line's first character): parse_checkpoint's tests (the text str.strip() leaves, no
 * `|Check Point|` in its first 40 characters, `syslog[` first or both `origin:"` and `action:"`),
 * then checkpoint_kv's reading, received now; its quoted fw1 export lines (`"` first and `" "Log" "`
 * in the first 120 characters) by checkpoint_fw1; None for anything else */
static PyObject *rd_cp_kv(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *source) {
    if (r->cp_outputs == NULL || (unsigned char)s[0] <= ' ' || (unsigned char)s[n - 1] <= ' ') Py_RETURN_NONE;
    if (has(s, n < 40 ? n : 40, "|Check Point|")) Py_RETURN_NONE;
    PyObject *got;
    if (!((n >= 7 && memcmp(s, "syslog[", 7) == 0) || (has(s, n, "origin:\"") && has(s, n, "action:\"")))) {
        /* the quoted fw1 export (`"num" "date" "time" "iface" "origin" "Log" ...`): checkpoint_fw1 */
        if (s[0] != '"' || !has(s, n < 120 ? n : 120, "\" \"Log\" \"")) Py_RETURN_NONE;
        got = fw_checkpoint_fw1(NULL, text);
        return got != NULL ? rd_fields_got(r, text, got, r->cp_outputs, source) : NULL;
    }
    got = fw_checkpoint_kv(NULL, text);
    return got != NULL ? rd_fields_got(r, text, got, r->cp_outputs, source) : NULL;
}

/* parse_line's event for a CEF file line whose first character's parsers are Palo Alto's,
 * FortiGate's and Check Point's, in this order (PLAN_CEF): each one's CEF reading as it decides
 * (its label in the first 60 or 40 characters; FortiGate's key=value twin first), the header
 * split here (cef_head), the extension by cef_extension's walk, the fields by each one's CEF
 * twin; None where one of them would go on in Python (a twin's None, its other forms) */
static PyObject *rd_cef(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *source) {
    enum { VENDOR, PRODUCT, VERSION, SIGNATURE, NAME };
    static const int SIG_NAME[2] = {SIGNATURE, NAME};
    if (r->pa_outputs == NULL || r->fg_outputs == NULL || r->cp_outputs == NULL) Py_RETURN_NONE;
    /* (a space last: str.strip() would change the text Palo Alto's and Check Point's read) */
    if (s[n - 1] == ' ' || is_digit(s[0]) || s[0] == ':' || s[0] == '{' || s[0] == ' ') Py_RETURN_NONE;
    if (!fw_printable(s, n)) Py_RETURN_NONE;
    Py_ssize_t n60 = n < 60 ? n : 60;
    cef_t c;
    if (has(s, n60, "|Palo Alto Networks|")) { /* parse_paloalto's _cef */
        if (!cef_head(s, n, &c)) Py_RETURN_NONE;
        /* (its extension walked once: fw_paloalto_cef_span; a key twice, the dict's path) */
        PyObject *sig = ascii_sub(s, c.a[SIGNATURE], c.b[SIGNATURE]), *nm = ascii_sub(s, c.a[NAME], c.b[NAME]);
        PyObject *got = sig != NULL && nm != NULL ? fw_paloalto_cef_span(s + c.ext, n - c.ext, sig, nm) : NULL;
        Py_XDECREF(sig);
        Py_XDECREF(nm);
        if (got == Py_NotImplemented) {
            Py_DECREF(got);
            got = rd_cef_twin(fw_paloalto_cef, s, n, &c, SIG_NAME, 2);
        }
        return got != NULL ? rd_fields_got(r, text, got, r->pa_outputs, source) : NULL;
    } /* (else Palo Alto refuses a line starting with neither a digit, `:` nor `{`) */
    return rd_fg_cp(r, text, s, n, source, 1);
}

/* rd_cef's FortiGate and Check Point part, and PLAN_FG_CP: a file line whose first character's
 * parsers are FortiGate's then Check Point's (`0|Check Point|...`, `0|Fortinet|...`: CEF without
 * its label). `checked`: rd_cef has refused spaces and control characters already; else they
 * are refused after FortiGate's key=value twin (which reads such lines itself). */
static PyObject *rd_fg_cp(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *source, int checked) {
    enum { VENDOR, PRODUCT, VERSION, SIGNATURE, NAME };
    static const int SIG_NAME[2] = {SIGNATURE, NAME}, PRODUCT_SIG_NAME[3] = {PRODUCT, SIGNATURE, NAME};
    if (r->fg_outputs == NULL || r->cp_outputs == NULL) Py_RETURN_NONE;
    Py_ssize_t n40 = n < 40 ? n : 40;
    cef_t c;
    /* parse_fortigate's key=value twin first: its None without `|Fortinet|` first or a marker
     * (fortigate_line's first tests, found once here: a Check Point line is long) */
    int fortinet = has(s, n40, "|Fortinet|"), refused = 0;
    int marked = !fortinet && (has(s, n, "logid") || has(s, n, "log_id") || has(s, n, "subtype="));
    if (marked) {
        PyObject *got = fw_fortigate_line(NULL, text);
        if (got == NULL) return NULL;
        if (got != Py_False && got != Py_None) return rd_fortigate_got(r, text, got, source);
        refused = got == Py_False;
        Py_DECREF(got);
    }
    if (!checked) { /* (a space first or last: str.strip() would change the text Check Point's reads) */
        if (s[n - 1] == ' ' || s[0] == ' ' || !fw_printable(s, n)) Py_RETURN_NONE;
    }
    PyObject *got;
    if (!refused) {
        if (fortinet) {
            if (!cef_head(s, n, &c)) Py_RETURN_NONE;
            got = rd_cef_span(fw_fortigate_cef_span, fw_fortigate_cef, s, n, &c, SIG_NAME, 2);
            return got != NULL ? rd_fortigate_got(r, text, got, source) : NULL;
        }
        if (marked) Py_RETURN_NONE;
    }
    /* parse_checkpoint's _cef (its other forms: Python's) */
    if (!has(s, n40, "|Check Point|") || !cef_head(s, n, &c)) Py_RETURN_NONE;
    if (c.b[VENDOR] - c.a[VENDOR] != 11 || memcmp(s + c.a[VENDOR], "Check Point", 11) != 0) Py_RETURN_NONE;
    got = rd_cef_span(fw_checkpoint_cef_span, fw_checkpoint_cef, s, n, &c, PRODUCT_SIG_NAME, 3);
    return got != NULL ? rd_fields_got(r, text, got, r->cp_outputs, source) : NULL;
}

/* LineParser._fast_syslog's event for a printable line with the common header (hd) whose body no
 * twin reads: the body's Parsed from the registry's dispatch (r->body_fn, LineParser._body, called
 * as there: a parser's exception gives no Parsed), `program` and `pid` added where the fields
 * lack them, the header's host unless the Parsed names one, its time unless the Parsed has one.
 * None only before the body is read (a stamp rd_time leaves to Python), so a stateful parser
 * never reads a line twice. (The Parsed stands for one event: the header's `message repeated`
 * bodies, the only ones _body gives a repeat, are not brought here, syslog_core's 0.)
 * Why: the Python around such a body (LineParser.events' tests, the header read again, the
 * receive time, the event) was ~2 us of a ~7-13 us sshd, PAM or Junos line. */
static PyObject *rd_body(Reader *r, PyObject *text, const char *s, Py_ssize_t n, const hdr_t *hd, PyObject *source) {
    double t = 0;
    int tok = rd_time(r, hd->month, hd->day, hd->h, hd->mi, hd->s, 0.0, r->tz, &t);
    if (tok <= 0) {
        if (tok < 0 || PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *host = ascii_sub(s, hd->h0, hd->h1), *app = ascii_sub(s, hd->a0, hd->a1);
    PyObject *pid = hd->p0 >= 0 && hd->p1 > hd->p0 ? ascii_sub(s, hd->p0, hd->p1) : Py_NewRef(Py_None);
    PyObject *msg = PyUnicode_Substring(text, hd->end, n), *p = NULL, *fields = NULL, *ev = NULL;
    PyObject *vals[6] = {NULL, NULL, NULL, NULL, NULL, NULL}; /* host, time, product, services, categories, parser */
    if (host == NULL || app == NULL || pid == NULL || msg == NULL) goto done;
    p = PyObject_CallFunctionObjArgs(r->body_fn, msg, app, NULL);
    if (p == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) goto done;
        PyErr_Clear(); /* (a parser bug must never stop ingestion: the line stays, unparsed) */
        p = Py_NewRef(Py_None);
    }
    if (p == Py_None) { /* {"message": raw, "program": app, ["pid": pid]} */
        rd_out o;
        if (rd_out_of(r->unparsed, &o) < 0 || (fields = PyDict_New()) == NULL) goto done;
        if (PyDict_SetItem(fields, S_message, text) < 0 || PyDict_SetItem(fields, S_program, app) < 0 ||
            (pid != Py_None && PyDict_SetItem(fields, S_pid, pid) < 0))
            goto done;
        ev = rd_event(r, text, fields, host, t, &o, source);
        fields = NULL; /* (consumed) */
        goto done;
    }
    if ((fields = PyObject_GetAttr(p, S_fields)) == NULL) goto done;
    int has = PySequence_Contains(fields, S_program);
    if (has < 0 || (!has && PyObject_SetItem(fields, S_program, app) < 0)) goto done;
    if (pid != Py_None) {
        has = PySequence_Contains(fields, S_pid);
        if (has < 0 || (!has && PyObject_SetItem(fields, S_pid, pid) < 0)) goto done;
    }
    PyObject *const names[6] = {S_host, S_time, S_product, S_services, S_categories, S_parser};
    for (int k = 0; k < 6; k++)
        if ((vals[k] = PyObject_GetAttr(p, names[k])) == NULL) goto done;
    int named = PyObject_IsTrue(vals[0]); /* p.host or host */
    if (named < 0) goto done;
    if (!named) Py_SETREF(vals[0], Py_NewRef(host));
    if (vals[1] == Py_None) {
        Py_DECREF(vals[1]);
        if ((vals[1] = PyFloat_FromDouble(t)) == NULL) goto done;
    }
    PyObject *key = PyTuple_Pack(3, vals[2], vals[3], vals[4]);
    if (key == NULL) goto done;
    ev = r->ev_type->tp_alloc(r->ev_type, 0);
    if (ev == NULL) {
        Py_DECREF(key);
        goto done;
    }
    SLOT(ev, EV_RAW) = Py_NewRef(text);
    SLOT(ev, EV_FIELDS) = fields;
    fields = NULL;
    SLOT(ev, EV_HOST) = Py_NewRef(vals[0]);
    SLOT(ev, EV_TIME) = Py_NewRef(vals[1]);
    SLOT(ev, EV_PRODUCT) = Py_NewRef(vals[2]);
    SLOT(ev, EV_SERVICES) = Py_NewRef(vals[3]);
    SLOT(ev, EV_CATEGORIES) = Py_NewRef(vals[4]);
    SLOT(ev, EV_PARSER) = Py_NewRef(vals[5]);
    SLOT(ev, EV_SOURCE) = Py_NewRef(source);
    SLOT(ev, EV_ROUTE_KEY) = key;
    SLOT(ev, EV_LOW) = Py_NewRef(Py_None);
    /* (left in the cyclic GC, as LogEvent is: a Python parser's fields may hold anything) */
done:
    for (int k = 0; k < 6; k++) Py_XDECREF(vals[k]);
    Py_XDECREF(fields);
    Py_XDECREF(p);
    Py_XDECREF(msg);
    Py_XDECREF(pid);
    Py_XDECREF(app);
    Py_XDECREF(host);
    return ev;
}

/* rd_body's event for the bodies _logfast_lx.c reads as LineParser._body would (lx_read: fields,
 * parser, product, services, categories, route key): `program` and `pid` added where the fields
 * lack them, the header's host and time; None where Python reads the body (rd_body). Why: a PAM
 * line under sshd went through parse_sshd, parse_junos, the marker scan and parse_pam's regexes
 * (~8 us), a Junos one through parse_junos' (~5.5 us). */
static PyObject *rd_lx(Reader *r, PyObject *text, const char *s, Py_ssize_t n, const hdr_t *hd, PyObject *source) {
    double t = 0;
    int tok = rd_time(r, hd->month, hd->day, hd->h, hd->mi, hd->s, 0.0, r->tz, &t);
    if (tok <= 0) {
        if (tok < 0 || PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *got = lx_read(&r->lx, text, s, hd->end, n, hd->a0, hd->a1);
    if (got == NULL || got == Py_None) return got;
    PyObject *fields = PyTuple_GET_ITEM(got, 0), *host = NULL, *ev = NULL;
    rd_out o = {PyTuple_GET_ITEM(got, 1), PyTuple_GET_ITEM(got, 2), PyTuple_GET_ITEM(got, 3), PyTuple_GET_ITEM(got, 4),
                PyTuple_GET_ITEM(got, 5)};
    int has = PyDict_Contains(fields, S_program);
    if (has < 0 || (!has && put(fields, K_PROGRAM, ascii_sub(s, hd->a0, hd->a1)) < 0)) goto done;
    if (hd->p0 >= 0 && hd->p1 > hd->p0) {
        has = PyDict_Contains(fields, S_pid);
        if (has < 0 || (!has && put(fields, K_PID, ascii_sub(s, hd->p0, hd->p1)) < 0)) goto done;
    }
    if ((host = ascii_sub(s, hd->h0, hd->h1)) == NULL) goto done;
    ev = rd_event(r, text, Py_NewRef(fields), host, t, &o, source);
done:
    Py_XDECREF(host);
    Py_DECREF(got);
    return ev;
}

/* LineParser.events' event for a printable line without the common header (no `<PRI>`) whose body
 * parse_syslog keeps whole, received now, when web's parser is its body's first candidate and
 * reads it (`rdp.acme.com 1.2.3.4 - - [...] "GET / HTTP/1.1" ...`: a vhost first, a character
 * no parser claims): parse_syslog keeps the line whole, the sender's (a network message) or the
 * input's host and the receive time, when it starts with a letter that is no month's name and its
 * first run of [\w.-] is not followed by `: ` (_CISCO_PREFIX's host), no `message repeated`;
 * web is first when no parser ordered before it has a marker in it or a prefix starting it and
 * its marker `" ` is there (or when Cisco's `%` is its only one there, web_pct, and parse_cisco
 * refuses it: rd_no_cisco_tag); then parse_access, here web_access_fields, with the line's time.
 * None for any other line (Python's). Why: such a line cost 9-20 us in Python, ~1 here. */
/* cisco_ios._CISCO.search finds nothing in s[0:n]: its match runs from a `%` over [A-Z0-9_-] only
 * (`FAC-S-MNEMONIC`) to a `:`, so a `%` whose run of those is not followed by `:` starts none */
static int rd_no_cisco_tag(const char *s, Py_ssize_t n) {
    for (const char *p = memchr(s, '%', (size_t)n); p != NULL; p = memchr(p, '%', (size_t)(s + n - p))) {
        p++;
        const char *e = p;
        while (e < s + n && ((*e >= 'A' && *e <= 'Z') || is_digit(*e) || *e == '_' || *e == '-')) e++;
        if (e < s + n && *e == ':') return 0;
    }
    return 1;
}

static PyObject *rd_web_bare(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *sender,
                             PyObject *source, int network) {
    if (r->web_out == NULL || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) || month_at(s, n, 0))
        Py_RETURN_NONE;
    Py_ssize_t k = 1;
    while (k < n && is_key_char((unsigned char)s[k])) k++;
    if ((k + 1 < n && s[k] == ':' && s[k + 1] == ' ') || (n >= 17 && memcmp(s, "message repeated ", 17) == 0) ||
        !has(s, n, "\" ") || !rd_leads_of(s, n, r->web_ahead, r->web_prefixes, r->web_first, &r->web_first_b) ||
        (r->web_pct && !rd_no_cisco_tag(s, n)))
        Py_RETURN_NONE;
    double t = 0;
    rd_out o;
    if (rd_out_of(r->web_out, &o) < 0) return NULL;
    PyObject *fields = web_access_fields(s, n, &t, NULL);
    if (fields == NULL || fields == Py_None) return fields;
    return rd_event(r, text, fields, network && PyUnicode_GET_LENGTH(sender) > 0 ? sender : r->default_host, t, &o,
                    source);
}

/* Reader.set_web(ahead, prefixes, output, pct=False): rd_web_bare's tables (ASCII markers and
 * prefixes of the parsers ordered before web's, its output; pct: cisco's `%` is left out of them,
 * repeat parse_cisco's refusal); None */
static PyObject *reader_set_web(Reader *r, PyObject *args) {
    PyObject *ahead, *prefixes, *out;
    int pct = 0;
    if (!PyArg_ParseTuple(args, "O!O!O!|p", &PyTuple_Type, &ahead, &PyTuple_Type, &prefixes, &PyTuple_Type, &out,
                          &pct))
        return NULL;
    rd_out o;
    if (rd_out_of(out, &o) < 0) return NULL;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ahead) + PyTuple_GET_SIZE(prefixes); k++) {
        PyObject *w = k < PyTuple_GET_SIZE(ahead) ? PyTuple_GET_ITEM(ahead, k)
                                                  : PyTuple_GET_ITEM(prefixes, k - PyTuple_GET_SIZE(ahead));
        if (!PyUnicode_Check(w) || !PyUnicode_IS_ASCII(w) || PyUnicode_GET_LENGTH(w) == 0) {
            PyErr_SetString(PyExc_TypeError, "Reader.set_web: markers and prefixes are non-empty ASCII text");
            return NULL;
        }
    }
    memset(r->web_first, 0, sizeof r->web_first);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ahead); k++)
        r->web_first[(unsigned char)PyUnicode_READ_CHAR(PyTuple_GET_ITEM(ahead, k), 0)] = 1;
    Py_XSETREF(r->web_ahead, Py_NewRef(ahead));
    Py_XSETREF(r->web_prefixes, Py_NewRef(prefixes));
    Py_XSETREF(r->web_out, Py_NewRef(out));
    r->web_pct = pct;
    rd_bucket(&r->web_first_b, r->web_ahead);
    Py_RETURN_NONE;
}

/* parse_line's event for a file line whose parser is parse_apache_error (kind 1: its first
 * character's first) or parse_nginx_error (kind 2: after parse_access, which the caller found
 * refuses it for sure: web_access_groups' 0), read by its C twin, received now (the Parsed has
 * no time); None for any other line (Python's). Why: with the twins, the Python around them
 * (events, parse_line, Parsed, the event) was half such a line. */
static PyObject *rd_web_error(Reader *r, PyObject *text, const char *s, Py_ssize_t n, PyObject *source, int kind) {
    PyObject *out = kind == 1 ? r->apache_out : r->nginx_err_out;
    if (out == NULL) Py_RETURN_NONE;
    rd_out o;
    double t = 0;
    if (rd_out_of(out, &o) < 0) return NULL;
    PyObject *fields = kind == 1 ? apache_error(NULL, text) : nginx_error(NULL, text);
    if (fields == NULL || fields == Py_None) return fields;
    if (rd_clock(r, &t) < 0) {
        Py_DECREF(fields);
        return NULL;
    }
    return rd_event(r, text, fields, r->default_host, t, &o, source);
}

/* Reader.set_web_errors(apache, apache_output, nginx, nginx_output): the first characters of
 * rd_web_error's kinds 1 and 2 (ASCII text) and their outputs (None: not read here); None */
static PyObject *reader_set_web_errors(Reader *r, PyObject *args) {
    PyObject *ap, *ap_out, *ng, *ng_out;
    if (!PyArg_ParseTuple(args, "UOUO", &ap, &ap_out, &ng, &ng_out)) return NULL;
    rd_out o;
    if ((ap_out != Py_None && rd_out_of(ap_out, &o) < 0) || (ng_out != Py_None && rd_out_of(ng_out, &o) < 0))
        return NULL;
    memset(r->web_err, 0, sizeof r->web_err);
    for (int kind = 1; kind <= 2; kind++) {
        PyObject *chars = kind == 1 ? ap : ng;
        for (Py_ssize_t k = 0; k < PyUnicode_GET_LENGTH(chars); k++) {
            Py_UCS4 ch = PyUnicode_READ_CHAR(chars, k);
            if (ch < 128) r->web_err[ch] = (unsigned char)kind;
        }
    }
    Py_XSETREF(r->apache_out, ap_out != Py_None ? Py_NewRef(ap_out) : NULL);
    Py_XSETREF(r->nginx_err_out, ng_out != Py_None ? Py_NewRef(ng_out) : NULL);
    Py_RETURN_NONE;
}

/* Reader.event(text, sender, source, network) -> LogEvent | None: LineParser.events' one event
 * (received now) for the lines read here; None: the Python path reads the line */
static PyObject *reader_event(Reader *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "Reader.event(text: str, sender: str, source: str, network: bool)");
        return NULL;
    }
    if (r->ev_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Reader: not initialised");
        return NULL;
    }
    PyObject *text = args[0], *sender = args[1], *source = args[2];
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    int network = PyObject_IsTrue(args[3]);
    if (network < 0) return NULL;
    const char *s = (const char *)PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0) Py_RETURN_NONE;
    unsigned char c = (unsigned char)s[0];
    if (network || c == '<' || !r->line_start[c]) { /* syslog: the common header, else Cisco IOS */
        hdr_t hd;
        long body = 0;
        PyObject *f = NULL;
        int got = syslog_core(text, r->programs, &hd, &body, &f);
        if (got < 0) return NULL;
        if (got == 1) {
            rd_out o;
            double t = 0;
            PyObject *out = body < PyTuple_GET_SIZE(r->outputs) ? PyTuple_GET_ITEM(r->outputs, body) : Py_None;
            if (out == Py_None) {
                Py_DECREF(f);
                Py_RETURN_NONE;
            }
            if (rd_out_of(out, &o) < 0) {
                Py_DECREF(f);
                return NULL;
            }
            int tok = rd_time(r, hd.month, hd.day, hd.h, hd.mi, hd.s, 0.0, r->tz, &t);
            PyObject *host = tok > 0 ? ascii_sub(s, hd.h0, hd.h1) : NULL;
            if (host == NULL) {
                Py_DECREF(f);
                if (tok < 0 || (tok > 0 && PyErr_Occurred())) return NULL;
                Py_RETURN_NONE;
            }
            PyObject *ev = rd_event(r, text, f, host, t, &o, source);
            Py_DECREF(host);
            return ev;
        }
        if (got == 3 && r->body_fn != NULL && r->lx.programs != NULL) { /* a PAM, Junos or generic body? */
            PyObject *ev = rd_lx(r, text, s, n, &hd, source);
            if (ev != Py_None) return ev;
            Py_DECREF(ev);
        }
        if (got == 3 && r->body_fn != NULL) return rd_body(r, text, s, n, &hd, source);
        if (got == 2 && r->asa_before_cisco && rd_starts(s, n, r->asa_tags)) /* (rd_asa's first form) */
            return rd_asa(r, text, s, n, sender, source, network || c == '<');
        if (got == 2 && r->cisco) { /* a Cisco line? (an ASA one: its parser's markers are ahead) */
            PyObject *ev = rd_cisco(r, text, s, n, sender, source, network || c == '<', 0);
            if (ev != Py_None) return ev;
            Py_DECREF(ev);
        }
        if (got == 2 && r->web_out != NULL && c != '<') { /* (a header-less web line: rd_web_bare) */
            PyObject *ev = rd_web_bare(r, text, s, n, sender, source, network);
            if (ev != Py_None) return ev;
            Py_DECREF(ev);
        }
        if (got == 2 && r->asa_tags != NULL) /* (the host: parse_line's default, a network message's sender) */
            return rd_asa(r, text, s, n, sender, source, network || c == '<');
        Py_RETURN_NONE;
    }
    /* a file line: a Cisco line its first character's parsers all refuse (to parse_syslog), */
    if (r->cisco && c < 128 && r->cisco_refuse[c]) {
        PyObject *ev = rd_cisco(r, text, s, n, sender, source, 0, r->cisco_refuse[c]);
        if (ev != Py_None) return ev;
        Py_DECREF(ev);
    }
    /* else parse_line's first parser for its first character */
    int plan = c < 128 ? r->plan[c] : PLAN_NONE;
    if (plan == PLAN_NONE && c < 128 && r->web_err[c] == 1) return rd_web_error(r, text, s, n, source, 1);
    if (plan == PLAN_NONE || s[n - 1] == '\n' || s[n - 1] == '\r') Py_RETURN_NONE;
    if (plan == PLAN_AUDIT_THEN_FORTIGATE) /* parse_audit's first refusal: no `msg=audit(` */
        plan = has(s, n, "msg=audit(") ? PLAN_AUDIT : PLAN_FORTIGATE;
    if (plan == PLAN_FORTIGATE && r->so_after[c] && r->fg_outputs != NULL) { /* FortiGate's, then sophos' */
        PyObject *got = fw_fortigate_line(NULL, text);
        if (got == Py_False) {
            Py_DECREF(got);
            return rd_sophos(r, text, source);
        }
        return got != NULL ? rd_fortigate_got(r, text, got, source) : NULL;
    }
    if (plan == PLAN_FORTIGATE) return rd_fortigate(r, text, source);
    if (plan == PLAN_SOPHOS) return rd_sophos(r, text, source);
    if (plan == PLAN_CEF) return rd_cef(r, text, s, n, source);
    if (plan == PLAN_FG_CP) return rd_fg_cp(r, text, s, n, source, 0);
    if (plan == PLAN_CP_KV) return rd_cp_kv(r, text, s, n, source);
    if (plan == PLAN_ACCESS || plan == PLAN_ACCESS_AFTER_PALOALTO) {
        /* paloalto.parse_paloalto's first refusal: an access line starting with a digit */
        if (plan == PLAN_ACCESS_AFTER_PALOALTO &&
            !(is_digit(s[0]) && (n < 2 || s[1] != ',') && !has(s, n < 60 ? n : 60, "|Palo Alto Networks|")))
            return rd_paloalto(r, text, source); /* (not refused: its CSV twin may read it) */
        rd_out o;
        PyObject *out = PyTuple_GET_ITEM(r->file_outputs, 0);
        if (out == Py_None) Py_RETURN_NONE;
        if (rd_out_of(out, &o) < 0) return NULL;
        double t = 0;
        int groups = 2;
        PyObject *fields = access_fields(s, n, &t, &groups);
        /* (no access line at all, and parse_nginx_error next) */
        if (fields == Py_None && groups == 0 && plan == PLAN_ACCESS && r->web_err[c] == 2) {
            Py_DECREF(fields);
            return rd_web_error(r, text, s, n, source, 2);
        }
        if (fields == NULL || fields == Py_None) return fields;
        return rd_event(r, text, fields, r->default_host, t, &o, source);
    }
    /* PLAN_AUDIT */
    if (r->audit_state == Py_None) Py_RETURN_NONE;
    PyObject *g = audit_record(NULL, text);
    if (g == NULL || g == Py_None) return g;
    int pc = 0, ok = rd_audit_state(r, g, &pc);
    rd_out o;
    PyObject *out = ok > 0 ? PyTuple_GET_ITEM(r->file_outputs, pc ? 2 : 1) : NULL;
    double t = ok > 0 ? PyFloat_AsDouble(PyTuple_GET_ITEM(g, 2)) : 0.0;
    if (ok <= 0 || out == Py_None || rd_out_of(out, &o) < 0 || PyErr_Occurred()) {
        Py_DECREF(g);
        if (ok < 0 || PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *node = PyTuple_GET_ITEM(g, 3), *fields = Py_NewRef(PyTuple_GET_ITEM(g, 4));
    PyObject *ev = rd_event(r, text, fields, node != Py_None ? node : r->default_host, t, &o, source);
    Py_DECREF(g);
    return ev;
}

/* Reader.json_event(text, obj, source) -> LogEvent | None: LineParser.events' one event for a file
 * line `text` starting with `{` received now, `obj` being orjson.loads(text) (the object the
 * reader decoded and hands on to the parsers, base.take_json), when the line's first parser is
 * Palo Alto's (pa_json): parse_line's event of parse_paloalto's _json, whose reading of a
 * document is paloalto_json's. Palo Alto's tests before it are repeated: the text is what
 * str.strip() leaves (ASCII, no space or control character last) and holds `"LogType"` in its
 * first 4000 characters. None for any other line, an object without LogType (the parsers after it
 * decide) and a document paloalto_json leaves to Python. Why: the Python around this one C call
 * (events, parse_line, parse_paloalto, _json, Parsed, the event) was ~3 us of a ~12 us line. */
static PyObject *reader_json_event(Reader *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "Reader.json_event(text: str, obj: object, source: str)");
        return NULL;
    }
    if (r->ev_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Reader: not initialised");
        return NULL;
    }
    PyObject *text = args[0], *obj = args[1], *source = args[2];
    if (!r->pa_json || !PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text) || !PyDict_CheckExact(obj))
        Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n < 2 || s[0] != '{' || (unsigned char)s[n - 1] <= ' ' || s[n - 1] == 0x7f) Py_RETURN_NONE;
    if (!has(s, n < 4000 ? n : 4000, "\"LogType\"")) Py_RETURN_NONE;
    PyObject *got = fw_paloalto_json(NULL, obj);
    return got != NULL ? rd_fields_got(r, text, got, r->pa_outputs, source) : NULL;
}

static int reader_traverse(Reader *r, visitproc visit, void *arg) {
    Py_VISIT(r->ev_type);
    Py_VISIT(r->default_host);
    Py_VISIT(r->tz);
    Py_VISIT(r->programs);
    Py_VISIT(r->outputs);
    Py_VISIT(r->file_outputs);
    Py_VISIT(r->audit_state);
    Py_VISIT(r->time_mod);
    Py_VISIT(r->minute_epochs);
    Py_VISIT(r->year_span);
    Py_VISIT(r->zone_of);
    Py_VISIT(r->zones);
    Py_VISIT(r->protos);
    Py_VISIT(r->cisco_svc);
    Py_VISIT(r->sys_aaa);
    Py_VISIT(r->cisco_routes);
    Py_VISIT(r->ahead);
    Py_VISIT(r->prefixes);
    Py_VISIT(r->asa_tags);
    Py_VISIT(r->asa_ahead);
    Py_VISIT(r->asa_prefixes);
    Py_VISIT(r->asa_outputs);
    Py_VISIT(r->asa_markers);
    Py_VISIT(r->asa_own_prefixes);
    Py_VISIT(r->cisco_refused);
    Py_VISIT(r->zone_unknown);
    Py_VISIT(r->fg_outputs);
    Py_VISIT(r->so_outputs);
    Py_VISIT(r->web_ahead);
    Py_VISIT(r->web_prefixes);
    Py_VISIT(r->web_out);
    Py_VISIT(r->apache_out);
    Py_VISIT(r->nginx_err_out);
    Py_VISIT(r->body_fn);
    Py_VISIT(r->unparsed);
    Py_VISIT(r->pa_outputs);
    Py_VISIT(r->cp_outputs);
    for (int k = 0; k < r->ntz; k++) Py_VISIT(r->tzs[k]);
    return 0;
}

static int reader_clear(Reader *r) {
    Py_CLEAR(r->ev_type);
    Py_CLEAR(r->default_host);
    Py_CLEAR(r->tz);
    Py_CLEAR(r->programs);
    Py_CLEAR(r->outputs);
    Py_CLEAR(r->file_outputs);
    Py_CLEAR(r->audit_state);
    Py_CLEAR(r->time_mod);
    Py_CLEAR(r->minute_epochs);
    Py_CLEAR(r->year_span);
    Py_CLEAR(r->zone_of);
    Py_CLEAR(r->zones);
    Py_CLEAR(r->protos);
    Py_CLEAR(r->cisco_svc);
    Py_CLEAR(r->sys_aaa);
    Py_CLEAR(r->cisco_routes);
    Py_CLEAR(r->ahead);
    Py_CLEAR(r->prefixes);
    Py_CLEAR(r->asa_tags);
    Py_CLEAR(r->asa_ahead);
    Py_CLEAR(r->asa_prefixes);
    Py_CLEAR(r->asa_outputs);
    Py_CLEAR(r->asa_markers);
    Py_CLEAR(r->asa_own_prefixes);
    Py_CLEAR(r->cisco_refused);
    Py_CLEAR(r->zone_unknown);
    Py_CLEAR(r->fg_outputs);
    Py_CLEAR(r->so_outputs);
    Py_CLEAR(r->web_ahead);
    Py_CLEAR(r->web_prefixes);
    Py_CLEAR(r->web_out);
    Py_CLEAR(r->apache_out);
    Py_CLEAR(r->nginx_err_out);
    memset(r->web_err, 0, sizeof r->web_err);
    Py_CLEAR(r->body_fn);
    Py_CLEAR(r->unparsed);
    Py_CLEAR(r->pa_outputs);
    Py_CLEAR(r->cp_outputs);
    lx_plan_clear(&r->lx);
    for (int k = 0; k < r->ntz; k++) Py_CLEAR(r->tzs[k]);
    r->ntz = 0;
    return 0;
}

static void reader_dealloc(Reader *r) {
    PyObject_GC_UnTrack(r);
    reader_clear(r);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

/* the member descriptor of `name` on the event type: its offset, or -1 with an error set */
static Py_ssize_t slot_offset(PyTypeObject *tp, const char *name) {
    PyObject *d = PyDict_GetItemString(tp->tp_dict, name);
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "Reader: %s.%s is not a slot", tp->tp_name, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX || (m->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "Reader: %s.%s is not a writable object slot", tp->tp_name, name);
        return -1;
    }
    return m->offset;
}

static int reader_init(Reader *r, PyObject *args, PyObject *kw) {
    static char *names[] = {"event_type", "default_host", "tz", "programs", "outputs", "file_plans",
                            "file_outputs", "audit_state", "time_module", "minute_epochs", "year_span",
                            "cisco", "zone_of", "protos", "cisco_svc", "sys_aaa", "cisco_routes", "ahead",
                            "prefixes", "asa", "fortigate", "cisco_starts", "fixed_tz", "paloalto", "checkpoint",
                            "paloalto_json", "sophos", "sophos_after", "body", "unparsed", "zone_unknown", "lx", NULL};
    PyObject *ev_type, *default_host, *tz, *programs, *outputs, *plans, *file_outputs, *audit_state, *time_mod,
        *minute_epochs, *year_span, *zone_of, *protos, *cisco_svc, *sys_aaa, *cisco_routes, *ahead, *prefixes,
        *asa = Py_None, *fortigate = Py_None, *cisco_starts = NULL, *paloalto = Py_None,
                                        *checkpoint = Py_None;
    int cisco, fixed_tz = 0, pa_json = 0;
    PyObject *sophos = Py_None, *sophos_after = NULL, *body = Py_None, *unparsed = Py_None, *zone_unknown = Py_None;
    PyObject *lx = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!UOO!O!O!O!OOOOpOO!O!OO!O!O!|OOO!pOOpOUOOOO", names, &PyType_Type, &ev_type,
                                     &default_host, &tz, &PyDict_Type, &programs, &PyTuple_Type, &outputs,
                                     &PyDict_Type, &plans, &PyTuple_Type, &file_outputs, &audit_state, &time_mod,
                                     &minute_epochs, &year_span, &cisco, &zone_of, &PyDict_Type, &protos,
                                     &PyDict_Type, &cisco_svc, &sys_aaa, &PyDict_Type, &cisco_routes, &PyTuple_Type,
                                     &ahead, &PyTuple_Type, &prefixes, &asa, &fortigate, &PyDict_Type, &cisco_starts,
                                     &fixed_tz, &paloalto, &checkpoint, &pa_json, &sophos, &sophos_after, &body,
                                     &unparsed, &zone_unknown, &lx))
        return -1;
    if (zone_unknown != Py_None && !PyCallable_Check(zone_unknown)) {
        PyErr_SetString(PyExc_TypeError, "Reader: zone_unknown is a callable or None");
        return -1;
    }
    if ((fortigate != Py_None && !PyTuple_Check(fortigate)) || (paloalto != Py_None && !PyTuple_Check(paloalto)) ||
        (checkpoint != Py_None && !PyTuple_Check(checkpoint)) || (sophos != Py_None && !PyTuple_Check(sophos))) {
        PyErr_SetString(PyExc_TypeError,
                        "Reader: fortigate, paloalto, checkpoint and sophos are tuples of outputs or None");
        return -1;
    }
    if (body != Py_None) { /* (a callable and the output of an unparsed event) */
        rd_out o;
        if (!PyCallable_Check(body) || rd_out_of(unparsed, &o) < 0) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "Reader: body is a callable, with unparsed an output");
            return -1;
        }
    }
    PyObject *asa_parts[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    if (asa != Py_None) { /* (tags, ahead, prefixes, outputs, markers, own prefixes): tuples of ASCII
                             text, the fourth of outputs */
        if (!PyTuple_Check(asa) || PyTuple_GET_SIZE(asa) != 6) {
            PyErr_SetString(PyExc_TypeError,
                            "Reader: asa is (tags, ahead, prefixes, outputs, markers, own prefixes) or None");
            return -1;
        }
        for (int k = 0; k < 6; k++) {
            PyObject *t = PyTuple_GET_ITEM(asa, k);
            if (!PyTuple_Check(t)) {
                PyErr_SetString(PyExc_TypeError, "Reader: asa's parts are tuples");
                return -1;
            }
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(t) && k != 3; i++) {
                PyObject *w = PyTuple_GET_ITEM(t, i);
                if (!PyUnicode_Check(w) || !PyUnicode_IS_ASCII(w) || PyUnicode_GET_LENGTH(w) == 0) {
                    PyErr_SetString(PyExc_TypeError, "Reader: markers and prefixes are non-empty ASCII text");
                    return -1;
                }
            }
            asa_parts[k] = t;
        }
    }
    PyTypeObject *tp = (PyTypeObject *)ev_type;
    if (!PyType_HasFeature(tp, Py_TPFLAGS_HEAPTYPE) || tp->tp_dictoffset != 0 || tp->tp_alloc == NULL) {
        PyErr_SetString(PyExc_TypeError, "Reader: the event type must be a class with __slots__");
        return -1;
    }
    if (PyTuple_GET_SIZE(file_outputs) != 3) {
        PyErr_SetString(PyExc_TypeError, "Reader: file_outputs is (access, audit, audit process_creation)");
        return -1;
    }
    for (int k = 0; k < EV_N; k++)
        if ((r->off[k] = slot_offset(tp, EV_SLOTS[k])) < 0) return -1;
    memset(r->plan, 0, sizeof r->plan);
    memset(r->line_start, 0, sizeof r->line_start);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(plans, &pos, &key, &value)) { /* first character -> plan (0: a parser, not here) */
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1 || !PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "Reader: file_plans maps one character to a plan number");
            return -1;
        }
        Py_UCS4 ch = PyUnicode_READ_CHAR(key, 0);
        long p = PyLong_AsLong(value);
        if (ch < 128) r->line_start[ch] = 1, r->plan[ch] = (unsigned char)(p >= 0 && p <= PLAN_CP_KV ? p : 0);
    }
    memset(r->so_after, 0, sizeof r->so_after);
    for (Py_ssize_t k = 0; sophos_after != NULL && k < PyUnicode_GET_LENGTH(sophos_after); k++) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(sophos_after, k);
        if (ch < 128) r->so_after[ch] = 1;
    }
    memset(r->cisco_refuse, 0, sizeof r->cisco_refuse);
    pos = 0;
    while (cisco_starts != NULL && PyDict_Next(cisco_starts, &pos, &key, &value)) { /* character -> RF_ mask */
        long m = PyLong_Check(value) ? PyLong_AsLong(value) : -1;
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1 || m <= 0 || m > RF_ALL) {
            PyErr_SetString(PyExc_TypeError, "Reader: cisco_starts maps one character to a refusal mask");
            return -1;
        }
        Py_UCS4 ch = PyUnicode_READ_CHAR(key, 0);
        if (ch < 128) r->cisco_refuse[ch] = (unsigned char)m;
    }
    memset(r->first, 0, sizeof r->first);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ahead) + PyTuple_GET_SIZE(prefixes); k++) {
        PyObject *w = k < PyTuple_GET_SIZE(ahead) ? PyTuple_GET_ITEM(ahead, k)
                                                  : PyTuple_GET_ITEM(prefixes, k - PyTuple_GET_SIZE(ahead));
        if (!PyUnicode_Check(w) || !PyUnicode_IS_ASCII(w) || PyUnicode_GET_LENGTH(w) == 0) {
            PyErr_SetString(PyExc_TypeError, "Reader: markers and prefixes are non-empty ASCII text");
            return -1;
        }
        if (k < PyTuple_GET_SIZE(ahead)) r->first[(unsigned char)PyUnicode_READ_CHAR(w, 0)] = 1;
    }
    memset(r->asa_first, 0, sizeof r->asa_first);
    for (Py_ssize_t k = 0; asa_parts[1] != NULL && k < PyTuple_GET_SIZE(asa_parts[1]); k++)
        r->asa_first[(unsigned char)PyUnicode_READ_CHAR(PyTuple_GET_ITEM(asa_parts[1], k), 0)] = 1;
    reader_clear(r);
    r->ev_type = (PyTypeObject *)Py_NewRef(ev_type);
    r->default_host = Py_NewRef(default_host), r->tz = Py_NewRef(tz), r->programs = Py_NewRef(programs);
    r->outputs = Py_NewRef(outputs), r->file_outputs = Py_NewRef(file_outputs);
    r->audit_state = Py_NewRef(audit_state), r->time_mod = Py_NewRef(time_mod);
    r->minute_epochs = Py_NewRef(minute_epochs), r->year_span = Py_NewRef(year_span);
    r->zone_of = Py_NewRef(zone_of), r->protos = Py_NewRef(protos), r->cisco_svc = Py_NewRef(cisco_svc);
    r->sys_aaa = Py_NewRef(sys_aaa), r->cisco_routes = Py_NewRef(cisco_routes);
    r->ahead = Py_NewRef(ahead), r->prefixes = Py_NewRef(prefixes);
    r->asa_tags = Py_XNewRef(asa_parts[0]), r->asa_ahead = Py_XNewRef(asa_parts[1]);
    rd_bucket(&r->first_b, r->ahead), rd_bucket(&r->asa_first_b, r->asa_ahead);
    r->asa_prefixes = Py_XNewRef(asa_parts[2]), r->asa_outputs = Py_XNewRef(asa_parts[3]);
    r->asa_markers = Py_XNewRef(asa_parts[4]), r->asa_own_prefixes = Py_XNewRef(asa_parts[5]);
    r->zone_unknown = zone_unknown != Py_None ? Py_NewRef(zone_unknown) : NULL;
    r->fg_outputs = fortigate != Py_None ? Py_NewRef(fortigate) : NULL;
    r->pa_outputs = paloalto != Py_None ? Py_NewRef(paloalto) : NULL;
    r->cp_outputs = checkpoint != Py_None ? Py_NewRef(checkpoint) : NULL;
    r->so_outputs = sophos != Py_None ? Py_NewRef(sophos) : NULL;
    r->body_fn = body != Py_None ? Py_NewRef(body) : NULL;
    r->unparsed = body != Py_None ? Py_NewRef(unparsed) : NULL;
    r->zones = PyDict_New();
    if (r->zones == NULL || lx_plan_init(&r->lx, body != Py_None ? lx : Py_None) < 0) return -1;
    r->cisco = cisco, r->fixed_tz = fixed_tz;
    r->asa_before_cisco = r->asa_tags != NULL && PyTuple_GET_SIZE(r->asa_tags) > 0;
    for (Py_ssize_t k = 0; r->asa_before_cisco && k < PyTuple_GET_SIZE(r->asa_tags); k++) {
        int in = PySequence_Contains(r->ahead, PyTuple_GET_ITEM(r->asa_tags, k));
        if (in < 0) return -1;
        r->asa_before_cisco = in;
    }
    r->pa_json = pa_json && r->pa_outputs != NULL;
    r->y_start = r->y_end = 0.0;
    r->year = 0;
    memset(r->cache, 0, sizeof r->cache);
    return 0;
}

/* Reader.cisco_refusals(fn): fn(body) -> bool says a Cisco body holding a marker of a parser
 * ordered before Cisco's is refused by every such parser (None: those lines are Python's) */
static PyObject *reader_cisco_refusals(Reader *r, PyObject *fn) {
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "cisco_refusals(fn: callable | None)");
        return NULL;
    }
    Py_XSETREF(r->cisco_refused, fn == Py_None ? NULL : Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyMethodDef reader_methods[] = {
    {"cisco_refusals", (PyCFunction)reader_cisco_refusals, METH_O,
     "cisco_refusals(fn): fn(body) -> bool, whether the parsers ordered before Cisco's all refuse a "
     "Cisco body holding one of their markers (then read here); None: such lines are Python's."},
    {"event", (PyCFunction)(void (*)(void))reader_event, METH_FASTCALL,
     "event(text, sender, source, network) -> LogEvent | None: the one event LineParser.events gives "
     "for a line received now, for the lines the C twins read; None: the Python path reads it."},
    {"json_event", (PyCFunction)(void (*)(void))reader_json_event, METH_FASTCALL,
     "json_event(text, obj, source) -> LogEvent | None: the event LineParser.events gives for a `{` "
     "file line received now whose decoded object is obj, when Palo Alto's JSON twin reads it; None: "
     "the Python path reads it."},
    {"set_web_errors", (PyCFunction)reader_set_web_errors, METH_VARARGS,
     "set_web_errors(apache, apache_output, nginx, nginx_output): error lines read here (rd_web_error)."},
    {"set_web", (PyCFunction)reader_set_web, METH_VARARGS,
     "set_web(ahead, prefixes, output): web's header-less lines read here (rd_web_bare)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nocsoc.collectors.logs._logfast.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Reader(**config): a LineParser's lines to finished events in C (see _logfast_reader.c).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)reader_init,
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_traverse = (traverseproc)reader_traverse,
    .tp_clear = (inquiry)reader_clear,
    .tp_methods = reader_methods,
};

/* the module's part: interned names, the type ready and added; 0 or -1 */
static int reader_module_init(PyObject *mod) {
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {{&S_time, "time"},         {&S_syscalls, "syscalls"},       {&S_procs, "procs"},
                 {&S_remember, "remember"}, {&S_move_to_end, "move_to_end"}, {&S_popitem, "popitem"},
                 {&S_space, " "},           {&S_exe, "exe"},                 {&S_comm, "comm"},
                 {&S_user_cap, "User"},     {&S_commandline, "CommandLine"}, {&S_image, "Image"},
                 {&S_ppid, "ppid"},         {&S_pid, "pid"},                 {&S_parent_pid, "ParentProcessId"},
                 {&S_parent_image, "ParentImage"}, {&S_parent_cmd, "ParentCommandLine"},
                 {&S_process_id, "ProcessId"}, {&S_syslog, "syslog"},   {&S_sys, "SYS"},
                 {&S_syscall_kind, "SYSCALL"}, {&S_execve_kind, "EXECVE"}, {&S_fields, "fields"},
                 {&S_host, "host"}, {&S_product, "product"}, {&S_services, "services"},
                 {&S_categories, "categories"}, {&S_parser, "parser"}, {&S_message, "message"},
                 {&S_program, "program"}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (*names[k].slot == NULL && (*names[k].slot = PyUnicode_InternFromString(names[k].text)) == NULL) return -1;
    for (int k = 0; k < N_AUDIT_COPY; k++)
        if (S_AUDIT_COPY[k] == NULL && (S_AUDIT_COPY[k] = PyUnicode_InternFromString(AUDIT_COPY[k])) == NULL)
            return -1;
    for (int k = 0; k < CK_N; k++)
        if (CSTR[k] == NULL && (CSTR[k] = PyUnicode_InternFromString(CISCO_NAMES[k])) == NULL) return -1;
    if (PyType_Ready(&ReaderType) < 0) return -1;
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(mod, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        return -1;
    }
    PyObject *pats = PyTuple_New(N_CISCO_PATTERNS);
    if (pats == NULL) return -1;
    for (Py_ssize_t k = 0; k < N_CISCO_PATTERNS; k++) {
        PyObject *p = PyUnicode_FromString(CISCO_PATTERNS[k]);
        if (p == NULL) {
            Py_DECREF(pats);
            return -1;
        }
        PyTuple_SET_ITEM(pats, k, p);
    }
    if (PyModule_AddObject(mod, "CISCO_PATTERNS", pats) < 0) {
        Py_DECREF(pats);
        return -1;
    }
    return 0;
}
#undef SLOT
