/*
 * _logfast_asa: the matcher of rxprog.py's programs (a compiled `re` pattern as int32 words), for
 * the Cisco ASA message-ID patterns _logfast_fw.c's asa_line reads.
 *
 * Why: asa_line called each pattern's `re` search from C; the search, its match object and the
 * groups tuple were ~6-8k of the ~19k instructions of a one-line ASA event, and the AnyConnect
 * prefix pattern (no literal to start from) ~100k on a long `Group = ` line. The program is made
 * from the pattern's own parse tree and walked as sre walks it: each start from the left, each
 * node's readings in sre's order (a greedy repeat longest first, a lazy one shortest first, `?`
 * with its part first, alternatives left to right), the first complete reading wins, a group's
 * span undone when the walk backs out of it. Texts are printable ASCII only (the caller checks):
 * \s, \d, \w and `$` then mean what the program's ASCII sets and END say.
 *
 * The ops (rxprog.py): MATCH | CHAR c | SET b[4] | REP lo hi b[4] | LREP lo hi b[4] | SPLIT a b |
 * JMP a | SAVE slot | BEGIN | END | NOTAHEAD b[4]; words 0-4 of a program: its number of groups,
 * then the set of characters a match can start with (a start elsewhere is not tried).
 */
#include "_logfast_asa.h"

#include <string.h>

enum { RX_MATCH, RX_CHAR, RX_SET, RX_REP, RX_LREP, RX_SPLIT, RX_JMP, RX_SAVE, RX_BEGIN, RX_END, RX_NOTAHEAD, RX_NOPS };
/* words of each op, its code included */
static const int RX_LEN[RX_NOPS] = {1, 2, 5, 7, 7, 3, 2, 2, 1, 1, 5};
#define RX_HEAD 5 /* words before the code: groups, first-character set */
#define RX_BUDGET 200000 /* steps before the walk gives up (re then decides) */

typedef struct {
    const int32_t *c;
    const char *t;
    Py_ssize_t n, end, *slot;
    long steps;
} rxvm;

static inline int rx_in(const int32_t *b, char ch) {
    unsigned char u = (unsigned char)ch;
    return u < 128 && (((uint32_t)b[u >> 5] >> (u & 31)) & 1u);
}

/* the walk from op pc at p: 1 matched (v->end set), 0 not, -1 gave up */
static int rx_run(rxvm *v, Py_ssize_t pc, Py_ssize_t p) {
    const int32_t *c = v->c;
    const char *t = v->t;
    Py_ssize_t n = v->n;
    for (;;) {
        if (++v->steps > RX_BUDGET) return -1;
        switch (c[pc]) {
        case RX_MATCH:
            v->end = p;
            return 1;
        case RX_CHAR:
            if (p < n && (unsigned char)t[p] == (unsigned)c[pc + 1]) {
                p++, pc += 2;
                continue;
            }
            return 0;
        case RX_SET:
            if (p < n && rx_in(c + pc + 1, t[p])) {
                p++, pc += 5;
                continue;
            }
            return 0;
        case RX_REP:
        case RX_LREP: {
            Py_ssize_t lo = c[pc + 1], hi = c[pc + 2], k = 0, lim = n - p;
            const int32_t *b = c + pc + 3;
            Py_ssize_t next = pc + 7;
            if (hi < lim) lim = hi;
            if (c[pc] == RX_REP) {
                while (k < lim && rx_in(b, t[p + k])) k++;
                if (k < lo) return 0;
                for (Py_ssize_t e = p + k; e >= p + lo; e--) {
                    /* (a reading the next literal refuses: not tried, as sre skips it) */
                    if (c[next] == RX_CHAR && (e >= n || (unsigned char)t[e] != (unsigned)c[next + 1])) continue;
                    int r = rx_run(v, next, e);
                    if (r) return r;
                }
                return 0;
            }
            for (Py_ssize_t e = p;; e++) { /* lazy: the shortest reading first */
                if (e - p >= lo) {
                    int r = rx_run(v, next, e);
                    if (r) return r;
                }
                if (e - p >= lim || !rx_in(b, t[e])) return 0;
            }
        }
        case RX_SPLIT: {
            int r = rx_run(v, c[pc + 1], p);
            if (r) return r;
            pc = c[pc + 2];
            continue;
        }
        case RX_JMP:
            pc = c[pc + 1];
            continue;
        case RX_SAVE: {
            Py_ssize_t k = c[pc + 1], old = v->slot[k];
            v->slot[k] = p;
            int r = rx_run(v, pc + 2, p);
            if (r) return r;
            v->slot[k] = old;
            return 0;
        }
        case RX_BEGIN:
            if (p != 0) return 0;
            pc++;
            continue;
        case RX_END:
            if (p != n) return 0;
            pc++;
            continue;
        case RX_NOTAHEAD:
            if (p < n && rx_in(c + pc + 1, t[p])) return 0;
            pc += 5;
            continue;
        default:
            return -1; /* (asa_rx_valid refuses such a program) */
        }
    }
}

int asa_rx_valid(PyObject *prog) {
    if (!PyBytes_Check(prog) || PyBytes_GET_SIZE(prog) % 4 != 0 || PyBytes_GET_SIZE(prog) < 4 * (RX_HEAD + 1)) goto bad;
    const int32_t *w = (const int32_t *)PyBytes_AS_STRING(prog);
    Py_ssize_t nw = PyBytes_GET_SIZE(prog) / 4 - RX_HEAD;
    const int32_t *c = w + RX_HEAD;
    if (nw < 1) goto bad;
    if (w[0] < 0 || w[0] > ASA_RX_MAX_GROUPS) goto bad;
    for (Py_ssize_t pc = 0; pc < nw;) {
        int op = c[pc];
        if (op < 0 || op >= RX_NOPS || pc + RX_LEN[op] > nw) goto bad;
        if ((op == RX_SPLIT && (c[pc + 1] < 0 || c[pc + 1] >= nw || c[pc + 2] < 0 || c[pc + 2] >= nw)) ||
            (op == RX_JMP && (c[pc + 1] < 0 || c[pc + 1] >= nw)) ||
            (op == RX_SAVE && (c[pc + 1] < 0 || c[pc + 1] >= 2 * (w[0] + 1))) ||
            ((op == RX_REP || op == RX_LREP) && (c[pc + 1] < 0 || c[pc + 2] < c[pc + 1])) ||
            (op == RX_CHAR && (c[pc + 1] < 0 || c[pc + 1] > 127)))
            goto bad;
        pc += RX_LEN[op];
        if (pc == nw && op != RX_MATCH) goto bad;
    }
    return 1;
bad:
    PyErr_SetString(PyExc_ValueError, "not a well-formed rxprog program");
    return 0;
}

int asa_rx_search(PyObject *prog, const char *t, Py_ssize_t n, Py_ssize_t *slots) {
    const int32_t *w = (const int32_t *)PyBytes_AS_STRING(prog);
    int ns = 2 * (w[0] + 1);
    const int32_t *first = w + 1;
    rxvm v = {w + RX_HEAD, t, n, 0, slots, 0};
    for (int k = 0; k < ns; k++) slots[k] = -1;
    int lead = v.c[0] == RX_CHAR ? v.c[1] : -1; /* a literal start: only where that character is */
    /* (a set of fewer than all 128: a match has a first character, so none starts at n) */
    int sieve = (first[0] & first[1] & first[2] & first[3]) != -1;
    for (Py_ssize_t p = 0; p <= n; p++) {
        if (lead >= 0) {
            const char *q = p < n ? memchr(t + p, lead, (size_t)(n - p)) : NULL;
            if (q == NULL) return 0;
            p = q - t;
        } else if (sieve) {
            while (p < n && !rx_in(first, t[p])) p++;
            if (p == n) return 0;
        }
        int r = rx_run(&v, 0, p);
        if (r > 0) {
            slots[0] = p, slots[1] = v.end;
            return 1;
        }
        if (r < 0) return -1;
    }
    return 0;
}

PyObject *asa_rx_search_py(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyBytes_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "rx_search(prog: bytes, text: str)");
        return NULL;
    }
    if (!asa_rx_valid(args[0])) return NULL;
    PyObject *text = args[1];
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_FALSE;
    const char *t = (const char *)PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t k = 0; k < n; k++)
        if (t[k] < 0x20 || t[k] == 0x7f) Py_RETURN_FALSE;
    Py_ssize_t slots[2 * (ASA_RX_MAX_GROUPS + 1)];
    int r = asa_rx_search(args[0], t, n, slots);
    if (r < 0) Py_RETURN_FALSE;
    if (r == 0) Py_RETURN_NONE;
    int ng = ((const int32_t *)PyBytes_AS_STRING(args[0]))[0];
    PyObject *g = PyTuple_New(ng);
    if (g == NULL) return NULL;
    for (int k = 1; k <= ng; k++) {
        Py_ssize_t a = slots[2 * k], b = slots[2 * k + 1];
        PyObject *item = a >= 0 && b >= a ? PyUnicode_Substring(text, a, b) : Py_NewRef(Py_None);
        if (item == NULL) {
            Py_DECREF(g);
            return NULL;
        }
        PyTuple_SET_ITEM(g, k - 1, item);
    }
    return g;
}

/* --- FTD key names ------------------------------------------------------------------------- */

#define AK_SLOTS 512   /* open addressing, a power of two */
#define AK_MAX_FILL 384 /* keys kept at most (the rest: a name made each time) */
#define AK_MAX_LEN 64   /* longer keys are not kept */

typedef struct {
    char key[AK_MAX_LEN];
    Py_ssize_t len; /* 0: an empty slot */
    PyObject *name;
    int kind;
} ak_slot;

static ak_slot AK[AK_SLOTS];
static int AK_FILL;
static char AK_PROTO[AK_MAX_LEN];
static Py_ssize_t AK_PROTO_LEN;

static size_t ak_hash(const char *k, Py_ssize_t n) {
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

static ak_slot *ak_find(const char *k, Py_ssize_t n) {
    for (size_t i = ak_hash(k, n) & (AK_SLOTS - 1);; i = (i + 1) & (AK_SLOTS - 1)) {
        ak_slot *s = &AK[i];
        if (s->len == 0 || (s->len == n && memcmp(s->key, k, (size_t)n) == 0)) return s;
    }
}

/* keep key k as `name` (a borrowed reference: the slot takes its own) of `kind` if there is room */
static void ak_put(const char *k, Py_ssize_t n, PyObject *name, int kind) {
    if (n <= 0 || n > AK_MAX_LEN || AK_FILL >= AK_MAX_FILL) return;
    ak_slot *s = ak_find(k, n);
    if (s->len != 0) return; /* (the first wins, as a dict built in order would not; the map has one) */
    memcpy(s->key, k, (size_t)n);
    s->len = n, s->name = Py_NewRef(name), s->kind = kind;
    AK_FILL++;
}

int asa_keys_reset(PyObject *map, PyObject *numeric, const char *proto) {
    for (int i = 0; i < AK_SLOTS; i++) {
        if (AK[i].len) Py_CLEAR(AK[i].name);
        AK[i].len = 0;
    }
    AK_FILL = 0;
    AK_PROTO_LEN = (Py_ssize_t)strlen(proto);
    if (AK_PROTO_LEN >= AK_MAX_LEN) return PyErr_SetString(PyExc_ValueError, "asa_keys_reset: proto"), -1;
    memcpy(AK_PROTO, proto, (size_t)AK_PROTO_LEN);
    if (!PyDict_Check(map)) return PyErr_SetString(PyExc_TypeError, "asa_keys_reset: map is a dict"), -1;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(map, &pos, &k, &v)) {
        if (!PyUnicode_Check(k) || !PyUnicode_IS_ASCII(k) || !PyUnicode_Check(v) || PyUnicode_GET_LENGTH(k) < 1 ||
            PyUnicode_GET_LENGTH(k) > AK_MAX_LEN || AK_FILL >= AK_MAX_FILL / 2)
            return PyErr_SetString(PyExc_ValueError, "asa_keys_reset: a map of short ASCII str keys"), -1;
        int num = PySequence_Contains(numeric, v);
        if (num < 0) return -1;
        ak_put((const char *)PyUnicode_DATA(k), PyUnicode_GET_LENGTH(k), v, num ? ASA_KEY_NUM : ASA_KEY_STR);
    }
    return 0;
}

int asa_keys_get(const char *k, Py_ssize_t kn, PyObject **name) {
    ak_slot *s = kn > 0 && kn <= AK_MAX_LEN ? ak_find(k, kn) : NULL;
    if (s != NULL && s->len != 0) {
        *name = Py_NewRef(s->name);
        return s->kind;
    }
    /* not in the map (asa_keys_reset kept every key of it) */
    if (kn == AK_PROTO_LEN && memcmp(k, AK_PROTO, (size_t)kn) == 0) {
        *name = NULL;
        return ASA_KEY_PROTO;
    }
    PyObject *key = PyUnicode_DecodeASCII(k, kn, NULL);
    if (key == NULL) return -1;
    *name = PyUnicode_FromFormat("ftd.%U", key);
    Py_DECREF(key);
    if (*name == NULL) return -1;
    ak_put(k, kn, *name, ASA_KEY_OTHER);
    return ASA_KEY_OTHER;
}
