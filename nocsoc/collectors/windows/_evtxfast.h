/*
 * _evtxfast.h: what the EVTX decoder (_evtxfast.c: binary XML -> each record's JSON text and
 * its tape) and the walker (_evtxwalk.c: the tape -> the record's Fields; the plans that let like
 * records skip both) share: the output buffer, the template tree, the tape, the decoder state.
 */
#ifndef NOCSOC_EVTXFAST_H
#define NOCSOC_EVTXFAST_H

#include "_winfast.h"  /* (Python.h; WfApi, what _winfast's capsule holds) */
#include <stdint.h>
#include <string.h>


#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "_evtxfast reads little-endian fields with plain loads (setup.py: optional, evtx then reads)"
#endif

#define CHUNK 65536u
#define CHUNK_HEADER 512u
#define MAX_DEPTH 48
#define MAX_NEST 8
#define MAX_VALUES 4096
#define MAX_UNIQUE_NAMES 64
#define TCAP 512  /* template cache slots (a chunk holds a few dozen) */
#define NCAP 2048 /* name cache slots */

/* ---------- output buffer ---------- */
typedef struct {
    char *p;
    size_t n, cap;
    int high; /* a byte >= 0x80 was written (the str is not ASCII) */
    int esc;  /* a JSON escape was written (tracked per string for the tape: see Tok) */
    size_t extra; /* bytes after the first of each multi-byte sequence: n - extra code points */
} Buf;

static inline int grow(Buf *b, size_t need) {
    if (b->n + need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + need) cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
#define PUT(b, s, len) do { if (grow((b), (len)) < 0) return -1; memcpy((b)->p + (b)->n, (s), (len)); (b)->n += (len); } while (0)
#define PUTC(b, ch) do { if (grow((b), 1) < 0) return -1; (b)->p[(b)->n++] = (char)(ch); } while (0)
#define PUTS(b, lit) PUT((b), (lit), sizeof(lit) - 1)
#define TRY(x) do { if ((x) < 0) return -1; } while (0)

/* ---------- template tree ---------- */
enum { N_ELEM, N_ATTR, N_TEXT, N_SUBST };
typedef struct {
    uint8_t kind, optional;
    uint16_t idx;      /* N_SUBST: substitution index */
    int32_t name;      /* N_ELEM/N_ATTR: name cache slot */
    uint32_t off, len; /* N_TEXT: chunk offset of the UTF-16 text, units */
    int32_t attrs;     /* N_ELEM: first attribute */
    int32_t kids;      /* N_ELEM: first child; N_ATTR: first value node */
    int32_t next;      /* next sibling */
    int32_t gid;       /* a template's root: its id in the process-wide registry (-1: none) */
} TNode;

/* a name's flags, for the element names evtx's JSON treats specially */
enum { F_DATA = 1, F_CONTAINER = 2, F_NAMEATTR = 4, F_HIGH = 8 };

typedef struct {
    uint8_t type;
    uint8_t empty;     /* evtx's "optional and empty": dropped where the substitution is optional */
    uint32_t off, len; /* chunk offset and size (UTF-16 strings: units, which end at a NUL) */
    int32_t sub;       /* BinXml: the nested instance's context */
} Val;

typedef struct {
    int32_t root; /* the template's root element node */
    int32_t vals; /* first value in Dec.vals */
    uint32_t count;
} Ctx;

/* ---------- the tape ----------
 * What _winfast.record_fields_lazy's scan of the JSON text reads, noted while the text is
 * written: one token per object and array bound, key and scalar, a key's or a string's with the
 * span of its text in the output. decode_events fills each record's Fields from it (walk(),
 * below) instead of scanning the text again (~19k instructions a record on the benign day). */
enum { K_OBJ, K_END, K_ARR, K_AEND, K_KEY, K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL };
enum { TF_ESC = 1, TF_HIGH = 2, TF_NEG = 4, TF_CONTENT = 8 /* a key whose text is a value's */ };
/* K_KEY's `key`: the name's cache slot (the key is that name alone), else one of these */
enum { KH_NONE = -1, KH_ATTRS = -2, KH_TEXT = -3, KH_DATA = -4 };
typedef struct {
    uint8_t kind, flags;  /* flags: TF_ESC (K_KEY, K_STR: an escape in it), TF_HIGH (a byte >= 0x80), TF_NEG */
    int32_t key;
    uint32_t off, len;    /* K_KEY, K_STR: the text between the quotes, in the output */
    uint64_t num;         /* K_NUM: the magnitude; K_KEY: 1 + the text node a Data's Name is, or 0 */
    int32_t vop;          /* while recording (see Plan): K_STR, the last value written before its
                             opening quote (-1: none); K_NUM, K_TRUE, K_FALSE: its own */
    int32_t vop_end;      /* K_STR: the last value written before its closing quote */
} Tok;

/* A substitution value written while recording (see Plan): where its bytes went, the Buf's
   `extra` before and after, which value, and whether value_number wrote it (a number or
   true/false, not inside quotes). */
typedef struct {
    uint32_t start, end, extra0, extra1;
    int32_t vidx;
    uint8_t num;
} VOp;

typedef struct {
    const uint8_t *c;
    TNode *nodes;
    int nn, ncap;
    uint32_t tkey[TCAP];
    int32_t tval[TCAP];
    uint32_t nkey[NCAP];
    uint32_t nstart[NCAP], nlen[NCAP];
    uint8_t nflag[NCAP];
    uint32_t nextra[NCAP]; /* the name's Buf.extra */
    int32_t nid[NCAP]; /* the first slot holding the same text: names compare by it */
    int32_t order[NCAP];
    uint32_t nhash[NCAP];
    int nnames;
    Buf names;
    Ctx *ctx;
    int nctx, cctx;
    Val *vals;
    int nvals, cvals;
    Buf out;
    int taping;       /* decode_events with the direct fields: the writer notes the tape */
    Tok *tape;
    int ntape, ctape;
    /* the key objects of this chunk's name slots and Data-name text nodes (strong references,
       released by keys_release at the chunk's end; `kheld` lists the ones set) */
    PyObject *nobj[NCAP];
    PyObject **tobj;
    int ctobj;
    int32_t *kheld;   /* >= 0: a name slot; < 0: -1 - a text node */
    int nkheld, ckheld;
    int recording;    /* value_text / value_number note each value they write in vops */
    VOp *vops;
    int nvops, cvops;
    /* a replay's scratch (plan_replay, plan_entries): each op's shift of the text and of
       `extra`, and its flags */
    int64_t *rp_delta, *rp_dx;
    uint8_t *rp_fl;
    int rp_cap;
} Dec;

static inline uint16_t u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; } /* little-endian hosts */
static inline uint32_t u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t u64(const uint8_t *p) { return (uint64_t)u32(p) | ((uint64_t)u32(p + 4) << 32); }

static inline int new_node(Dec *d) {
    if (d->nn == d->ncap) {
        int cap = d->ncap ? d->ncap * 2 : 1024;
        if (cap > 1 << 20) return -1;
        TNode *p = PyMem_Realloc(d->nodes, (size_t)cap * sizeof(TNode));
        if (!p) return -1;
        d->nodes = p;
        d->ncap = cap;
    }
    TNode *n = &d->nodes[d->nn];
    memset(n, 0, sizeof(*n));
    n->attrs = n->kids = n->next = n->gid = -1;
    return d->nn++;
}

/* `arr` (of `cap` items) grown to hold `need` items (doubling from `first`, at most 1 << 20);
   returns -1 from the enclosing function if it cannot */
#define ENSURE_CAP(arr, cap, need, first) do { \
        if ((need) > (cap)) { \
            int c_ = (cap) ? (cap) : (first); \
            while (c_ < (need)) c_ *= 2; \
            if (c_ > 1 << 20) return -1; \
            void *p_ = PyMem_Realloc((arr), (size_t)c_ * sizeof *(arr)); \
            if (!p_) return -1; \
            (arr) = p_; \
            (cap) = c_; \
        } \
    } while (0)

static inline __attribute__((always_inline)) int tape_push(Dec *d, uint8_t kind, uint8_t flags, int32_t key,
                                                           size_t off, size_t len, uint64_t num) {
    if (__builtin_expect(d->ntape == d->ctape, 0)) ENSURE_CAP(d->tape, d->ctape, d->ntape + 1, 256);
    Tok *t = &d->tape[d->ntape++];
    t->vop = t->vop_end = d->nvops - 1;
    t->kind = kind;
    t->flags = flags;
    t->key = key;
    t->off = (uint32_t)off;
    t->len = (uint32_t)len;
    t->num = num;
    return 0;
}
#define TAP(d, kind, flags, key, off, len, num) \
    do { if ((d)->taping && tape_push((d), (kind), (flags), (key), (off), (len), (num)) < 0) return -1; } while (0)


/* ---------- between the decoder (_evtxfast.c) and the walker (_evtxwalk.c) ----------
 * (hidden: symbols of this extension only) */
#define EF_HIDDEN __attribute__((visibility("hidden")))
typedef struct Plan Plan;
typedef struct Compiled Compiled;

/* _evtxfast.c: the value writers plan_replay calls, the number a value holds, _winfast's API
   (NULL where _winfast is not built) */
EF_HIDDEN int value_text_raw(Dec *d, const Val *v);
EF_HIDDEN int value_number_raw(Dec *d, const Val *v);
EF_HIDDEN uint64_t number_of(const Dec *d, const Val *v, int *neg);
EF_HIDDEN extern const WfApi *wf;

/* _evtxwalk.c */
EF_HIDDEN int walk_init(void);                 /* its key objects (event_layout calls it) */
EF_HIDDEN void keys_release(Dec *d);           /* the chunk's key objects, at its end */
EF_HIDDEN Plan *plan_find(Dec *d, PyObject *attrs);
EF_HIDDEN const Compiled *plan_text(const Plan *p);  /* NULL: no text to replay */
EF_HIDDEN int plan_replay(Dec *d, const Compiled *t);
EF_HIDDEN PyObject *walk(Dec *d, PyObject *text, PyObject *attrs_by_element, Plan *pl, int replayed);
EF_HIDDEN int plans_full(void);
EF_HIDDEN int plans_count(void);
EF_HIDDEN void plans_forget(void);            /* every plan (the caller forgets the template ids too) */
EF_HIDDEN PyObject *walk_counts(PyObject *self, PyObject *unused);

#endif
