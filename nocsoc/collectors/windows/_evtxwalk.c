/*
 * _evtxwalk: a record's tape -> its Fields (walk), and the plans that let a record shaped as one
 * met before skip both the writing and the walk (Plan, Compiled). The decoder is _evtxfast.c.
 */
#include "_evtxfast.h"

/* ------------------------------------------------------------------------------------------
 * walk: a record's tape -> its Fields, as _winfast.record_fields_lazy makes them from the text.
 *
 * Why: on the benign day, scanning the text this module has just written cost ~19k
 * instructions a record (strings checked byte by byte, every name hashed and compared, numbers
 * parsed again), a third of the path. The writer knows where each key and value went and what
 * it is: this walks those tokens through the same steps as the scan (parse_event, parse_system,
 * json_system_element, parse_data in _winfast.c, in that order, with the same repeated-key rule)
 * and builds the same entries: string values as spans of the same text, made when read.
 *
 * Where the scan would decline, or anything is unusual (an escape in a name, more keys in an
 * object or nesting than it is sure of, a text that is neither ASCII, Latin-1 nor kept as
 * UTF-8 by the str), walk declines (0) and the caller runs record_fields_lazy on the text: that
 * scan, not this, decides those records. tests/collectors/windows/test_evtxevents.py checks
 * that both give equal fields on every real and mutated record.
 * ------------------------------------------------------------------------------------------ */
#define W_ENTS 256       /* entries: _winfast's LZ_MAX (more, and the scan declines) */
#define W_KEYS 120       /* keys in one object (the scan declines past 128) */
#define W_DEPTH 32       /* nesting of skipped values (the scan declines past 64) */
#define W_DATA_DEPTH 10  /* EventData / UserData levels: the scan's MAX_DATA_DEPTH */
#define W_TMP 32         /* key objects made for one record alone (suffixed or substituted names) */
enum { WK_ERR = -1, WK_DECLINE = 0, WK_OK = 1 };

static PyObject *k_eventid, *k_event, *k_system, *k_eventdata, *k_userdata, *k_attributes, *k_text, *k_data;

int walk_init(void) {
    struct { PyObject **slot; const char *text; } names[] = {
        {&k_eventid, "EventID"}, {&k_event, "Event"}, {&k_system, "System"}, {&k_eventdata, "EventData"},
        {&k_userdata, "UserData"}, {&k_attributes, "#attributes"}, {&k_text, "#text"}, {&k_data, "Data"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return -1;
    return 0;
}

typedef struct {
    Dec *d;
    const Tok *t;
    int i, n;              /* next token, tokens */
    const uint8_t *out;    /* the UTF-8 text written */
    PyObject *attrs_by_element;
    int latin1;            /* the str is 1-byte Latin-1 (not ASCII): spans move back */
    int nent;
    int lastsrc, content;  /* the token w_scalar read last; a key made of a value's text met */
    int32_t src[W_ENTS];   /* each entry's value token */
    WfEnt ent[W_ENTS];
    Py_hash_t hash[W_ENTS];
    int16_t head[64], next[W_ENTS];
    uint64_t bloom;
    int ntmp;
    PyObject *tmp[W_TMP];
} W;

typedef struct {
    int n;
    uint64_t mask;
    PyObject *keys[W_KEYS];
} WSeen;

/* the str of UTF-8 text [s, s + n) (`high`: not ASCII), interned: every key object walk uses is,
   so two keys are equal exactly when they are the same object */
#define KC 4096        /* key cache slots: names repeat from chunk to chunk */
#define KC_MAXLEN 64
static struct { uint64_t h; PyObject *s; } kc[KC];

static uint64_t key_hash(const uint8_t *s, size_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = (uint64_t)x | ((uint64_t)y << 32);
    } else {
        for (size_t i = 0; i < n; i++) a = (a << 8) | s[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    return h ^ (h >> 31);
}

static PyObject *interned(const uint8_t *s, size_t n, int high) {
    size_t slot = 0;
    uint64_t h = 0;
    if (!high && n <= KC_MAXLEN) {  /* (a short ASCII name: the cache, its str interned) */
        h = key_hash(s, n);
        slot = (size_t)(h ^ (h >> 29)) & (KC - 1);
        PyObject *c = kc[slot].s;
        if (c != NULL && kc[slot].h == h && (size_t)PyUnicode_GET_LENGTH(c) == n
            && memcmp(PyUnicode_DATA(c), s, n) == 0)
            return Py_NewRef(c);
    }
    PyObject *u;
    if (!high) {
        u = PyUnicode_New((Py_ssize_t)n, 127);
        if (u) memcpy(PyUnicode_DATA(u), s, n);
    } else {
        u = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, "strict");
    }
    if (u == NULL) return NULL;
    PyUnicode_InternInPlace(&u);
    if (!high && n <= KC_MAXLEN) {
        Py_XSETREF(kc[slot].s, Py_NewRef(u));
        kc[slot].h = h;
    }
    return u;
}

static int keys_hold(Dec *d, int32_t what) {
    ENSURE_CAP(d->kheld, d->ckheld, d->nkheld + 1, 256);
    d->kheld[d->nkheld++] = what;
    return 0;
}

/* drop the chunk's key objects (its slots and nodes mean other names in the next chunk) */
void keys_release(Dec *d) {
    for (int i = 0; i < d->nkheld; i++) {
        int32_t w = d->kheld[i];
        if (w >= 0) Py_CLEAR(d->nobj[w]);
        else Py_CLEAR(d->tobj[-1 - w]);
    }
    d->nkheld = 0;
}

/* The key object of a K_KEY token (borrowed), NULL with an error, or NULL without one: declined
   (an escape in it: the scan declines those names). */
static PyObject *w_key(W *w, const Tok *t) {
    Dec *d = w->d;
    if (t->flags & TF_ESC) return NULL;
    switch (t->key) {
    case KH_ATTRS: return k_attributes;
    case KH_TEXT: return k_text;
    case KH_DATA: return k_data;
    default: break;
    }
    const uint8_t *s = w->out + t->off;
    int high = (t->flags & TF_HIGH) != 0;
    if (t->key >= 0) {  /* a name slot */
        PyObject *k = d->nobj[t->key];
        if (k == NULL) {
            if ((k = interned(s, t->len, high)) == NULL) return NULL;
            if (keys_hold(d, t->key) < 0) { Py_DECREF(k); PyErr_NoMemory(); return NULL; }
            d->nobj[t->key] = k;
        }
        return k;
    }
    if (t->num) {  /* a Data's Name that is a text node of the template */
        int32_t node = (int32_t)(t->num - 1);
        if (node >= d->ctobj) {
            int cap = d->ctobj ? d->ctobj : 1024;
            while (cap <= node) cap *= 2;
            PyObject **o = PyMem_Realloc(d->tobj, (size_t)cap * sizeof(PyObject *));
            if (!o) { PyErr_NoMemory(); return NULL; }
            memset(o + d->ctobj, 0, (size_t)(cap - d->ctobj) * sizeof(PyObject *));
            d->tobj = o;
            d->ctobj = cap;
        }
        PyObject *k = d->tobj[node];
        if (k == NULL) {
            if ((k = interned(s, t->len, high)) == NULL) return NULL;
            if (keys_hold(d, -1 - node) < 0) { Py_DECREF(k); PyErr_NoMemory(); return NULL; }
            d->tobj[node] = k;
        }
        return k;
    }
    if (w->ntmp == W_TMP) return NULL;
    PyObject *k = interned(s, t->len, high);
    if (k) w->tmp[w->ntmp++] = k;
    return k;
}

/* The next token a key: its object (borrowed) in *k, checked not repeated in this object. */
static int w_name(W *w, WSeen *seen, PyObject **k, const Tok **tok) {
    if (w->i >= w->n || w->t[w->i].kind != K_KEY) return WK_DECLINE;
    const Tok *t = &w->t[w->i++];
    if (t->flags & TF_CONTENT) w->content = 1;
    PyObject *key = w_key(w, t);
    if (key == NULL) return PyErr_Occurred() ? WK_ERR : WK_DECLINE;
    uint64_t bit = 1ULL << (((uintptr_t)key >> 4) & 63);
    if (seen->mask & bit)
        for (int j = 0; j < seen->n; j++)
            if (seen->keys[j] == key) return WK_DECLINE;  /* the scan declines a repeated name */
    if (seen->n == W_KEYS) return WK_DECLINE;
    seen->mask |= bit;
    seen->keys[seen->n++] = key;
    *k = key;
    *tok = t;
    return WK_OK;
}

/* A scalar token: *v a new reference, or NULL with *lazy set and the span in *off, *len (a
   string, made when read). WK_DECLINE at an object or array. */
static int w_scalar(W *w, PyObject **v, int *lazy, uint32_t *off, uint32_t *len) {
    *v = NULL;
    *lazy = 0;
    if (w->i >= w->n) return WK_DECLINE;
    const Tok *t = &w->t[w->i];
    w->lastsrc = w->i;
    switch (t->kind) {
    case K_STR: {
        uint32_t o = t->off, n = t->len;
        if (w->latin1) {  /* the str's code units (each 2-byte UTF-8 sequence is one) */
            o = (uint32_t)(t->num >> 32);
            n = (uint32_t)t->num;
        }
        if (n > WF_LEN) return WK_DECLINE;
        *lazy = 1;
        *off = o;
        *len = n | ((t->flags & TF_ESC) ? WF_ESC : 0) | ((t->flags & TF_HIGH) ? 0 : WF_ASCII);
        break;
    }
    case K_NUM:
        if (t->flags & TF_NEG)
            *v = t->num == (uint64_t)INT64_MAX + 1 ? PyLong_FromLongLong(INT64_MIN)
                                                   : PyLong_FromLongLong(-(long long)t->num);
        else
            *v = PyLong_FromUnsignedLongLong(t->num);
        if (*v == NULL) return WK_ERR;
        break;
    case K_TRUE: *v = Py_NewRef(Py_True); break;
    case K_FALSE: *v = Py_NewRef(Py_False); break;
    case K_NULL: *v = Py_NewRef(Py_None); break;
    default: return WK_DECLINE;
    }
    w->i++;
    return WK_OK;
}

/* Past one value (an object or array with all it holds). */
static int w_skip(W *w, int depth) {
    if (w->i >= w->n) return WK_DECLINE;
    const Tok *t = &w->t[w->i++];
    if (t->kind != K_OBJ && t->kind != K_ARR) {
        return t->kind == K_END || t->kind == K_AEND || t->kind == K_KEY ? WK_DECLINE : WK_OK;
    }
    if (depth > W_DEPTH) return WK_DECLINE;
    uint8_t end = t->kind == K_OBJ ? K_END : K_AEND;
    for (;;) {
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t k = w->t[w->i].kind;
        if (k == end) { w->i++; return WK_OK; }
        if (end == K_END) {
            if (k != K_KEY) return WK_DECLINE;
            w->i++;
        }
        int r = w_skip(w, depth + 1);
        if (r != WK_OK) return r;
    }
}

/* out[k] = v (k a new reference; v one, or the span): as _winfast's set_item, a repeated key
   keeps its first place and key object and takes the new value. */
static int w_set(W *w, PyObject *k, PyObject *v, int lazy, uint32_t off, uint32_t len, int src) {
    Py_hash_t h = PyObject_Hash(k);
    if (h == -1) goto err;
    int i = w->nent;
    unsigned b = (unsigned)((uint64_t)h & 63);
    if (w->bloom & (1ULL << b)) {
        for (int c = w->head[b]; c >= 0; c = w->next[c]) {
            PyObject *key = WF_KEY(&w->ent[c]);
            if (key == k) { i = c; break; }
            if (w->hash[c] != h) continue;
            int eq = PyObject_RichCompareBool(key, k, Py_EQ);
            if (eq < 0) goto err;
            if (eq) { i = c; break; }
        }
    }
    WfEnt *e = &w->ent[i];
    if (i < w->nent) {
        Py_DECREF(k);
        if (!(e->k & WF_LAZY)) Py_DECREF(e->u.v);
    } else {
        if (w->nent == W_ENTS) {
            Py_DECREF(k);
            Py_XDECREF(v);
            return WK_DECLINE;
        }
        e->k = (uintptr_t)k;
        w->hash[i] = h;
        if (!(w->bloom & (1ULL << b))) w->head[b] = -1;
        w->next[i] = w->head[b];
        w->head[b] = (int16_t)i;
        w->bloom |= 1ULL << b;
        w->nent++;
    }
    if (lazy) {
        e->k |= WF_LAZY;
        e->u.s.off = off;
        e->u.s.len = len;
    } else {
        e->k &= ~WF_LAZY;
        e->u.v = v;
    }
    w->src[i] = src;
    return WK_OK;
err:
    Py_DECREF(k);
    Py_XDECREF(v);
    return WK_ERR;
}

static int w_expect(W *w, uint8_t kind) {
    if (w->i >= w->n || w->t[w->i].kind != kind) return WK_DECLINE;
    w->i++;
    return WK_OK;
}

#define WTRY(x) do { int r_ = (x); if (r_ != WK_OK) return r_; } while (0)

/* At an object: its '{' read, `seen` cleared for its names. */
static int w_open(W *w, WSeen *seen) {
    seen->n = 0;
    seen->mask = 0;
    return w_expect(w, K_OBJ);
}

/* The object's next name (*k, *kt; checked not repeated), or its end (*k NULL, '}' read). */
static int w_next(W *w, WSeen *seen, PyObject **k, const Tok **kt) {
    if (w->i < w->n && w->t[w->i].kind == K_END) {
        w->i++;
        *k = NULL;
        return WK_OK;
    }
    return w_name(w, seen, k, kt);
}

/* json_system_element: a System child that is an object ({"#attributes": {...}, "#text": v}) */
static int w_system_element(W *w, PyObject *key) {
    PyObject *names = PyDict_GetItemWithError(w->attrs_by_element, key);
    if (names == NULL && PyErr_Occurred()) return WK_ERR;
    PyObject *text = NULL;
    int tlazy = 0, have = 0, tsrc = 0, r = WK_OK;
    uint32_t toff = 0, tlen = 0;
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        if ((r = w_next(w, &seen, &k, &kt)) != WK_OK) goto fail;
        if (k == NULL) break;
        if (k == k_text) {
            if ((r = w_scalar(w, &text, &tlazy, &toff, &tlen)) != WK_OK) goto fail;
            tsrc = w->lastsrc;
            have = 1;
        } else if (k == k_attributes && names != NULL && PyDict_Check(names)
                   && w->i < w->n && w->t[w->i].kind == K_OBJ) {
            WSeen aseen;
            if ((r = w_open(w, &aseen)) != WK_OK) goto fail;
            for (;;) {
                PyObject *ak;
                const Tok *akt;
                if ((r = w_next(w, &aseen, &ak, &akt)) != WK_OK) goto fail;
                if (ak == NULL) break;
                PyObject *name = PyDict_GetItemWithError(names, ak);
                if (name == NULL) {
                    if (PyErr_Occurred()) { r = WK_ERR; goto fail; }
                    if ((r = w_skip(w, 3)) != WK_OK) goto fail;
                    continue;
                }
                PyObject *av;
                int alazy;
                uint32_t aoff, alen;
                if ((r = w_scalar(w, &av, &alazy, &aoff, &alen)) != WK_OK) goto fail;
                if ((r = w_set(w, Py_NewRef(name), av, alazy, aoff, alen, w->lastsrc)) != WK_OK) goto fail;
            }
        } else {
            if ((r = w_skip(w, 3)) != WK_OK) goto fail;
        }
    }
    if (have) return w_set(w, Py_NewRef(key), text, tlazy, toff, tlen, tsrc);
    return WK_OK;
fail:
    Py_XDECREF(text);
    return r;
}

static int w_system(W *w) {
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) return WK_OK;
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t kind = w->t[w->i].kind;
        if (kind == K_OBJ) {
            WTRY(w_system_element(w, k));
        } else if (kind == K_NULL) {
            w->i++;
        } else {
            PyObject *v;
            int lazy;
            uint32_t off, len;
            WTRY(w_scalar(w, &v, &lazy, &off, &len));
            WTRY(w_set(w, Py_NewRef(k), v, lazy, off, len, w->lastsrc));
        }
    }
}

/* parse_data: EventData / UserData (or an element in them) into the flat fields */
static int w_data(W *w, int depth) {
    if (depth > W_DATA_DEPTH) return WK_DECLINE;
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) return WK_OK;
        const uint8_t *s = w->out + kt->off;
        if (kt->len > 0 && s[0] == '#') {
            if (k != k_attributes) return WK_DECLINE;
            WTRY(w_skip(w, depth + 1));
            continue;
        }
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t kind = w->t[w->i].kind;
        if (kind == K_OBJ) {
            WTRY(w_data(w, depth + 1));
            continue;
        }
        PyObject *v;
        int lazy;
        uint32_t off, len;
        WTRY(w_scalar(w, &v, &lazy, &off, &len));  /* (an array declines) */
        PyObject *key;
        if (memchr(s, ' ', kt->len) == NULL) {
            key = Py_NewRef(k);
        } else {  /* Defender's "Threat Name": SigmaHQ's rules say ThreatName */
            uint8_t stackbuf[256];
            uint8_t *buf = kt->len <= sizeof stackbuf ? stackbuf : PyMem_Malloc(kt->len);
            if (buf == NULL) { Py_XDECREF(v); PyErr_NoMemory(); return WK_ERR; }
            size_t m = 0;
            for (uint32_t i = 0; i < kt->len; i++) if (s[i] != ' ') buf[m++] = s[i];
            key = (kt->flags & TF_HIGH) ? PyUnicode_DecodeUTF8((const char *)buf, (Py_ssize_t)m, "strict")
                                        : PyUnicode_FromStringAndSize((const char *)buf, (Py_ssize_t)m);
            if (buf != stackbuf) PyMem_Free(buf);
            if (key == NULL) { Py_XDECREF(v); return WK_ERR; }
        }
        WTRY(w_set(w, key, v, lazy, off, len, w->lastsrc));
    }
}

/* out.get("EventID") as the scan has it so far: an exact int, or WK_DECLINE */
static int w_eventid_ok(W *w) {
    for (int i = 0; i < w->nent; i++) {
        PyObject *key = WF_KEY(&w->ent[i]);
        if (key == k_eventid || (PyUnicode_CheckExact(key) && PyUnicode_Compare(key, k_eventid) == 0))
            return !(w->ent[i].k & WF_LAZY) && PyLong_CheckExact(w->ent[i].u.v) ? WK_OK : WK_DECLINE;
    }
    return WK_DECLINE;
}

static int w_event(W *w) {
    WSeen seen;
    int system = 0, eventdata = 0, userdata = 0;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) break;
        if (k == k_system) {
            if (eventdata || userdata) return WK_DECLINE;
            WTRY(w_system(w));
            system = 1;
            WTRY(w_eventid_ok(w));
        } else if (k == k_eventdata || k == k_userdata) {
            int ud = k == k_userdata;
            if (!system || (!ud && userdata)) return WK_DECLINE;
            if (ud) userdata = 1; else eventdata = 1;
            if (w->i < w->n && w->t[w->i].kind == K_NULL) w->i++;
            else WTRY(w_data(w, 2));
        } else {
            WTRY(w_skip(w, 2));
        }
    }
    return system ? WK_OK : WK_DECLINE;
}

static int w_record(W *w) {
    WSeen seen;
    int event = 0;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) break;
        if (k == k_event) {
            WTRY(w_event(w));
            event = 1;
        } else {
            WTRY(w_skip(w, 1));
        }
    }
    return event && w->i == w->n ? WK_OK : WK_DECLINE;
}

/* The Fields of the record just written (its text `text`, made by out_str from d->out), a new
   reference; NULL without an error where walk declines (the caller scans the text), NULL with
   one on failure. */
static unsigned long long walks, walk_declines, planned, replays;  /* (walk_counts(): tests, benches) */

PyObject *walk_counts(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(KKKK)", walks, walk_declines, planned, replays);
}

/* A plan: what walk did for one record of a template, kept for the later records of it (in any
 * chunk: templates are known by their id, see template_gid) whose substitution values have the
 * same types and emptiness (`sig`, one byte a value) and whose nested instances (BinXml values)
 * have the same templates and value counts (`shape`), read with the same attrs_by_element.
 * Why: the writer's output, and so the tape's tokens and everything walk decides (which keys,
 * in which order, which token each value is), depend on the template, those types and
 * emptiness alone, as long as no key is a value's text; only the tokens' spans and numbers
 * differ. So the entries are the plan's keys with the values of the tokens it names, read from
 * this record's tape (a token of another kind: walk runs instead), or, once the plan keeps the
 * text (Compiled), from the replayed text. */
typedef struct Plan {
    int32_t root;
    int ntape, n, nctx;
    uint32_t nsig;
    uint8_t *sig;
    int32_t *shape;    /* each instance's template root and value count, in d->ctx's order */
    PyObject **keys;   /* strong references */
    Py_hash_t *hash;
    int32_t *src;
    uint8_t *kind;     /* the kind of src's token (K_FALSE noted as K_TRUE) */
    void *block;       /* the one allocation holding the arrays */
    struct Compiled *text;  /* a record's text, to replay (NULL: not made) */
    int tried;         /* plan_compile ran (text NULL: it could not) */
    PyObject *attrs;   /* the attrs_by_element walk read (a strong reference) */
    int32_t chain;     /* the next plan of its bucket (-1: none) */
} Plan;

/* How an entry's value is found in a replayed text: K_NULL (None); K_NUM (the number or bool
   of op `op`); K_STR: the span [s, e) of the recorded text, moved by the values written before
   each end (ks, ke: the last op ending at or before it, -1 none), with `extra` xs, xe there in
   the recorded text and what its literal part holds (an escape, a byte >= 0x80). */
typedef struct {
    uint8_t kind, lesc, lhigh;
    int32_t op, ks, ke;
    uint32_t s, e, xs, xe;
} PEnt;

/* A plan's record text as literal bytes between its values: a like record's text is the same
 * bytes with its own values written in their places (the writer's every other byte depends on
 * what plan_find compares alone: see Plan). Replaying it skips the writer's walk of the
 * template tree, and the tape and walk after it. */
typedef struct Compiled {
    int nops;
    VOp *ops;
    uint8_t *lit;
    uint32_t nlit;
    int lit_high;
    PEnt *pe;
} Compiled;
/* The plans, process-wide (a template's id is: see template_gid), found by (root template,
   value count) through buckets; at most GPLANS, kept for the process's life (each holds its
   text and keys: ~3 KB). */
#define GPLANS 2048
#define PBUCKETS 4096
static Plan *g_plans;
static int g_nplans;
static int32_t g_phead[PBUCKETS];

static inline size_t plan_bucket(int32_t gid, uint32_t nv) {
    return ((size_t)(uint32_t)gid * 2654435761u ^ nv * 40503u) & (PBUCKETS - 1);
}

static inline uint8_t val_sig(const Val *v) { return (uint8_t)(v->type | (v->empty ? 0x80 : 0)); }
static inline uint8_t kind_class(uint8_t k) { return k == K_FALSE ? K_TRUE : k; }

/* every plan (see forget_shapes in _evtxfast.c: when and why) */
void plans_forget(void) {
    for (int i = 0; i < g_nplans; i++) {
        Plan *p = &g_plans[i];
        for (int j = 0; j < p->n; j++) Py_DECREF(p->keys[j]);
        Py_DECREF(p->attrs);
        PyMem_Free(p->block);
        PyMem_Free(p->text);  /* (one block) */
    }
    g_nplans = 0;
    for (int b = 0; b < PBUCKETS; b++) g_phead[b] = -1;
}

int plans_full(void) { return g_nplans >= GPLANS; }
int plans_count(void) { return g_nplans; }
const Compiled *plan_text(const Plan *p) { return p->text; }

/* the template id of instance c of the record just read (-1: none) */
static inline int32_t ctx_gid(const Dec *d, int c) { return d->nodes[d->ctx[c].root].gid; }

/* the plan for the record just read (its instances and values in d->ctx, d->vals), or NULL */
Plan *plan_find(Dec *d, PyObject *attrs) {
    int32_t gid = ctx_gid(d, 0);
    uint32_t nv = (uint32_t)d->nvals;
    if (gid < 0) return NULL;
    for (int32_t i = g_nplans ? g_phead[plan_bucket(gid, nv)] : -1; i >= 0; i = g_plans[i].chain) {
        Plan *p = &g_plans[i];
        if (p->root != gid || p->nsig != nv || p->nctx != d->nctx || p->attrs != attrs) continue;
        int c = 1;
        while (c < d->nctx && p->shape[2 * c] == ctx_gid(d, c) && p->shape[2 * c + 1] == (int32_t)d->ctx[c].count)
            c++;
        if (c < d->nctx) continue;
        uint32_t k = 0;
        while (k < nv && val_sig(&d->vals[k]) == p->sig[k]) k++;
        if (k == nv) return p;
    }
    return NULL;
}

/* keep walk's result `w` for the template of the record just written (no error if it cannot) */
static void plan_compile(Dec *d, Plan *p);

static void plan_save(Dec *d, const W *w) {
    if (w->content || g_nplans == GPLANS || d->ctx[0].vals != 0 || ctx_gid(d, 0) < 0) return;
    for (int c = 1; c < d->nctx; c++)
        if (ctx_gid(d, c) < 0) return;
    if (g_plans == NULL) {
        if ((g_plans = PyMem_Malloc(GPLANS * sizeof(Plan))) == NULL) return;
        for (int b = 0; b < PBUCKETS; b++) g_phead[b] = -1;
    }
    const Ctx *x = &d->ctx[0];
    int n = w->nent;
    size_t nv = (size_t)d->nvals;
    size_t size = (size_t)n * (sizeof(PyObject *) + sizeof(Py_hash_t) + sizeof(int32_t) + 1)
                  + 2 * sizeof(int32_t) * (size_t)d->nctx + nv;
    uint8_t *block = PyMem_Malloc(size);
    if (block == NULL) return;
    Plan *p = &g_plans[g_nplans];
    p->root = ctx_gid(d, 0);
    (void)x;
    p->ntape = d->ntape;
    p->n = n;
    p->nctx = d->nctx;
    p->nsig = (uint32_t)nv;
    /* (pointers first, then the 8-, 4- and 1-byte arrays: each aligned) */
    p->keys = (PyObject **)(void *)block;
    p->hash = (Py_hash_t *)(void *)(block + (size_t)n * sizeof(PyObject *));
    p->src = (int32_t *)(void *)(block + (size_t)n * (sizeof(PyObject *) + sizeof(Py_hash_t)));
    p->shape = p->src + n;
    p->kind = (uint8_t *)(p->shape + 2 * d->nctx);
    p->sig = p->kind + n;
    p->block = block;
    p->text = NULL;
    p->tried = 0;
    p->attrs = Py_NewRef(w->attrs_by_element);
    size_t bucket = plan_bucket(p->root, p->nsig);
    p->chain = g_phead[bucket];
    g_phead[bucket] = (int32_t)g_nplans++;
    for (int c = 0; c < d->nctx; c++) {
        p->shape[2 * c] = ctx_gid(d, c);
        p->shape[2 * c + 1] = (int32_t)d->ctx[c].count;
    }
    for (int j = 0; j < n; j++) {
        p->keys[j] = Py_NewRef(WF_KEY(&w->ent[j]));
        p->hash[j] = w->hash[j];
        p->src[j] = w->src[j];
        p->kind[j] = kind_class(d->tape[w->src[j]].kind);
    }
    for (size_t k = 0; k < nv; k++) p->sig[k] = val_sig(&d->vals[k]);
    if (d->recording) plan_compile(d, p);
}

/* bytes of o[a, b) that are >= 0x80 (any_high) or UTF-8 continuation bytes (count_cont),
   eight at a time */
static int any_high(const uint8_t *o, uint32_t a, uint32_t b) {
    uint64_t acc = 0, w;
    for (; a + 8 <= b; a += 8) {
        memcpy(&w, o + a, 8);
        acc |= w;
    }
    for (; a < b; a++) acc |= o[a];
    return (acc & 0x8080808080808080ull) != 0;
}

static uint32_t count_cont(const uint8_t *o, uint32_t a, uint32_t b) {
    uint32_t n = 0;
    uint64_t w;
    for (; a + 8 <= b; a += 8) {
        memcpy(&w, o + a, 8);
        n += (uint32_t)__builtin_popcountll(w & ~(w << 1) & 0x8080808080808080ull);  /* 10xxxxxx */
    }
    for (; a < b; a++) n += (o[a] & 0xC0) == 0x80;
    return n;
}


/* the plan's Compiled from the record just written (recorded), if every entry's value is found
   as PEnt says (no error if not: the plan then works from the tape) */
static void plan_compile(Dec *d, Plan *p) {
    p->tried = 1;
    int nops = d->nvops, n = p->n;
    size_t nlit = d->out.n;
    size_t size = sizeof(Compiled) + (size_t)nops * sizeof(VOp) + (size_t)n * sizeof(PEnt) + nlit;
    uint8_t *block = PyMem_Malloc(size);
    if (block == NULL) return;
    Compiled *t = (Compiled *)(void *)block;
    t->nops = nops;
    t->ops = (VOp *)(void *)(block + sizeof(Compiled));
    t->pe = (PEnt *)(void *)(block + sizeof(Compiled) + (size_t)nops * sizeof(VOp));
    t->lit = block + sizeof(Compiled) + (size_t)nops * sizeof(VOp) + (size_t)n * sizeof(PEnt);
    t->nlit = (uint32_t)nlit;
    memcpy(t->ops, d->vops, (size_t)nops * sizeof(VOp));
    memcpy(t->lit, d->out.p, nlit);
    const uint8_t *o = t->lit;
    /* the literal parts: a byte >= 0x80 in them */
    int high = d->out.high;  /* (else no byte >= 0x80 anywhere: nothing to count) */
    t->lit_high = 0;
    uint32_t at = 0;
    for (int k = 0; k <= nops; k++) {
        uint32_t stop = k < nops ? t->ops[k].start : (uint32_t)nlit;
        if (stop < at) goto fail;  /* (ops in order, none inside another) */
        if (high && at < stop) t->lit_high |= any_high(o, at, stop);
        if (k < nops) at = t->ops[k].end;
    }
    for (int j = 0; j < n; j++) {
        const Tok *tk = &d->tape[p->src[j]];
        PEnt *q = &t->pe[j];
        memset(q, 0, sizeof *q);
        q->kind = tk->kind == K_FALSE ? K_TRUE : tk->kind;
        q->op = q->ks = q->ke = -1;
        if (q->kind == K_NULL) continue;
        if (q->kind == K_NUM || q->kind == K_TRUE) {
            q->op = tk->vop;
            if (q->op < 0 || q->op >= nops || t->ops[q->op].start != tk->off || !t->ops[q->op].num) goto fail;
            q->kind = K_NUM;
            continue;
        }
        if (q->kind != K_STR) goto fail;
        q->s = tk->off;
        q->e = tk->off + tk->len;
        q->ks = tk->vop;
        q->ke = tk->vop_end;
        if (q->ks >= nops || q->ke >= nops || q->ks > q->ke || (q->ks >= 0 && t->ops[q->ks].end > q->s)
            || (q->ke >= 0 && t->ops[q->ke].end > q->e) || (q->ke + 1 < nops && t->ops[q->ke + 1].start < q->e))
            goto fail;
        /* `extra` at s and e in the recorded text; the literal bytes of the span */
        uint32_t from = q->ks >= 0 ? t->ops[q->ks].end : 0, x = q->ks >= 0 ? t->ops[q->ks].extra1 : 0;
        if (high && from < q->s) x += count_cont(o, from, q->s);
        q->xs = x;
        from = q->ke >= 0 ? t->ops[q->ke].end : 0;
        x = q->ke >= 0 ? t->ops[q->ke].extra1 : 0;
        if (high && from < q->e) x += count_cont(o, from, q->e);
        q->xe = x;
        uint32_t i = q->s;
        for (int k = q->ks + 1; k <= q->ke + 1 && i < q->e; k++) {
            uint32_t stop = k <= q->ke ? t->ops[k].start : q->e;
            for (; i < stop; i++) {
                q->lhigh |= o[i] >= 0x80;
                q->lesc |= o[i] == '\\';
            }
            if (k <= q->ke) i = t->ops[k].end;
        }
    }
    p->text = t;
    return;
fail:
    PyMem_Free(block);
}

/* The record's text from its plan's Compiled, with its own values (d->vals) in their places:
   0, or -1 (a value this does not write: the chunk is declined, as the writer would). */
int plan_replay(Dec *d, const Compiled *t) {
    if (t->nops > d->rp_cap) {
        int cap = t->nops * 2;
        int64_t *a = PyMem_Realloc(d->rp_delta, (size_t)cap * sizeof(int64_t));
        if (a) d->rp_delta = a;
        int64_t *x = PyMem_Realloc(d->rp_dx, (size_t)cap * sizeof(int64_t));
        if (x) d->rp_dx = x;
        uint8_t *f = PyMem_Realloc(d->rp_fl, (size_t)cap);
        if (f) d->rp_fl = f;
        if (!a || !x || !f) return -1;
        d->rp_cap = cap;
    }
    Buf *b = &d->out;
    b->n = 0;
    b->extra = 0;
    int taping = d->taping, high = t->lit_high;
    d->taping = 0;
    uint32_t pos = 0, rx = 0;
    for (int k = 0; k < t->nops; k++) {
        const VOp *op = &t->ops[k];
        PUT(b, t->lit + pos, op->start - pos);
        b->extra += op->extra0 - rx;
        b->high = b->esc = 0;
        const Val *v = &d->vals[op->vidx];
        if ((op->num ? value_number_raw(d, v) : value_text_raw(d, v)) < 0) { d->taping = taping; return -1; }
        d->rp_fl[k] = (uint8_t)((b->high ? TF_HIGH : 0) | (b->esc ? TF_ESC : 0));
        high |= b->high;
        d->rp_delta[k] = (int64_t)b->n - (int64_t)op->end;
        d->rp_dx[k] = (int64_t)b->extra - (int64_t)op->extra1;
        pos = op->end;
        rx = op->extra1;
    }
    d->taping = taping;
    PUT(b, t->lit + pos, t->nlit - pos);
    b->high = high;
    return 0;
}

/* drop the entries made so far */
static void w_undo(W *w) {
    for (int i = 0; i < w->nent; i++) {
        Py_DECREF(WF_KEY(&w->ent[i]));
        if (!(w->ent[i].k & WF_LAZY)) Py_DECREF(w->ent[i].u.v);
    }
    w->nent = 0;
}

/* The plan's entries, with this record's values: WK_OK, WK_DECLINE (a token of another kind:
   nothing kept), WK_ERR. */
static int plan_apply(W *w, const Plan *p) {
    for (int j = 0; j < p->n; j++) {
        const Tok *t = &w->t[p->src[j]];
        if (kind_class(t->kind) != p->kind[j]) goto undo;
        WfEnt *e = &w->ent[j];
        w->i = p->src[j];
        PyObject *v;
        int lazy;
        uint32_t off, len;
        int r = w_scalar(w, &v, &lazy, &off, &len);
        if (r != WK_OK) {
            w->nent = j;
            return r == WK_ERR ? WK_ERR : (w_undo(w), WK_DECLINE);
        }
        e->k = (uintptr_t)Py_NewRef(p->keys[j]);
        w->hash[j] = p->hash[j];
        if (lazy) {
            e->k |= WF_LAZY;
            e->u.s.off = off;
            e->u.s.len = len;
        } else {
            e->u.v = v;
        }
        w->nent = j + 1;
    }
    w->i = w->n;
    return WK_OK;
undo:
    w_undo(w);
    return WK_DECLINE;
}

/* The entries of a replayed record (plan_replay just wrote its text) into w: WK_OK or WK_ERR;
   WK_DECLINE where a span is too long for a Fields (the scan then decides). */
static int plan_entries(W *w, const Plan *p, const Compiled *t) {
    Dec *d = w->d;
    for (int j = 0; j < p->n; j++) {
        const PEnt *q = &t->pe[j];
        WfEnt *e = &w->ent[j];
        PyObject *v = NULL;
        if (q->kind == K_NULL) {
            v = Py_NewRef(Py_None);
        } else if (q->kind == K_NUM) {
            const Val *val = &d->vals[t->ops[q->op].vidx];
            if (val->type == 0x0D) {
                v = Py_NewRef(u32(d->c + val->off) ? Py_True : Py_False);
            } else {
                int neg;
                uint64_t m = number_of(d, val, &neg);
                v = !neg ? PyLong_FromUnsignedLongLong(m)
                    : m == (uint64_t)INT64_MAX + 1 ? PyLong_FromLongLong(INT64_MIN)
                    : PyLong_FromLongLong(-(long long)m);
                if (v == NULL) return WK_ERR;
            }
        } else {
            int64_t ds = q->ks >= 0 ? d->rp_delta[q->ks] : 0, de = q->ke >= 0 ? d->rp_delta[q->ke] : 0;
            int64_t start = (int64_t)q->s + ds, end = (int64_t)q->e + de;
            uint8_t fl = (uint8_t)((q->lesc ? TF_ESC : 0) | (q->lhigh ? TF_HIGH : 0));
            for (int k = q->ks + 1; k <= q->ke; k++) fl |= d->rp_fl[k];
            if (w->latin1) {
                start -= (int64_t)q->xs + (q->ks >= 0 ? d->rp_dx[q->ks] : 0);
                end -= (int64_t)q->xe + (q->ke >= 0 ? d->rp_dx[q->ke] : 0);
            }
            if (end - start > (int64_t)WF_LEN) return WK_DECLINE;
            e->k = (uintptr_t)Py_NewRef(p->keys[j]) | WF_LAZY;
            e->u.s.off = (uint32_t)start;
            e->u.s.len = (uint32_t)(end - start) | ((fl & TF_ESC) ? WF_ESC : 0) | ((fl & TF_HIGH) ? 0 : WF_ASCII);
            w->hash[j] = p->hash[j];
            w->nent = j + 1;
            continue;
        }
        e->k = (uintptr_t)Py_NewRef(p->keys[j]);
        e->u.v = v;
        w->hash[j] = p->hash[j];
        w->nent = j + 1;
    }
    return WK_OK;
}

/* `pl`: the plan plan_find gave for the record (before it was written), or NULL; `replayed`:
   its text was replayed (plan_replay), not written with a tape. */
PyObject *walk(Dec *d, PyObject *text, PyObject *attrs_by_element, Plan *pl, int replayed) {
    static W w;  /* (the GIL guards it; 6 KB kept off the stack) */
    static int busy;
    if (busy || wf == NULL || wf->fields_new == NULL) return NULL;
    const unsigned char *base;
    w.latin1 = 0;
    if (!d->out.high) {
        base = PyUnicode_DATA(text);
    } else if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) {
        base = PyUnicode_1BYTE_DATA(text);
        w.latin1 = 1;
    } else {  /* as the scan reads it: the UTF-8 the str keeps, the bytes written here */
        Py_ssize_t size;
        if ((base = (const unsigned char *)PyUnicode_AsUTF8AndSize(text, &size)) == NULL) return NULL;
        if ((size_t)size != d->out.n) return NULL;
    }
    busy = 1;
    w.d = d;
    w.t = d->tape;
    w.i = 0;
    w.n = d->ntape;
    w.out = (const uint8_t *)d->out.p;
    w.attrs_by_element = attrs_by_element;
    w.nent = 0;
    w.bloom = 0;
    w.ntmp = 0;
    w.content = 0;
    PyObject *result = NULL;
    int r = WK_DECLINE;
    Plan *p = pl;
    walks++;
    if (replayed) {
        r = plan_entries(&w, p, p->text);
        if (r == WK_OK) planned++, replays++;
        if (r == WK_DECLINE) walk_declines++;
        goto made;
    }
    if (p != NULL && p->ntape == d->ntape) {
        r = plan_apply(&w, p);
        if (r == WK_OK) planned++;
    }
    if (r != WK_OK) {
        if (r == WK_ERR) goto out;
        w.i = 0;
        r = w_record(&w);
        if (r == WK_DECLINE) walk_declines++;
        if (r == WK_OK && p == NULL) plan_save(d, &w);
    }
made:
    if (r == WK_OK) {
        result = wf->fields_new(text, base, w.latin1, w.ent, w.nent, w.hash);
        if (result != NULL) w.nent = 0;  /* the entries' references are the Fields' now */
    }
out:
    for (int i = 0; i < w.nent; i++) {
        Py_DECREF(WF_KEY(&w.ent[i]));
        if (!(w.ent[i].k & WF_LAZY)) Py_DECREF(w.ent[i].u.v);
    }
    for (int i = 0; i < w.ntmp; i++) Py_DECREF(w.tmp[i]);
    busy = 0;
    return result;
}
