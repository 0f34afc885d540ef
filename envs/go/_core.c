/*
 * envs.go._core: Go rules on a compact board value (area scoring, positional superko).
 *
 * A state is one Python object holding a fixed header and a variable data block sized for its
 * board (5x5 .. 19x19), so copying a state is one memcpy. Points are indexed on a board padded
 * by one ring of BORDER points (p = (row + 1) * w + col + 1, w = n + 2); moves are unpadded
 * (m = row * n + col, pass = n * n).
 *
 * Chains are circular lists of stones (next[]), each stone names its chain's head (head[]), and
 * the head stores the chain's size and pseudo-liberties: the number of (stone, empty neighbour)
 * pairs. Pseudo-liberties are zero exactly when a chain has no liberty, and a chain's only
 * liberty is point p exactly when its pseudo-liberty count equals the number of its stones next
 * to p, which is all that capture and suicide tests need.
 *
 * The game history is a persistent list of positions (HistNode: Zobrist hash, packed stones, the
 * move that led there) shared between a state and its children, so playing a move is
 * O(board), never O(game). Each state also carries a Bloom filter of the hashes in its history;
 * a candidate position is compared against the list only when the filter reports it, and a hash
 * match is confirmed against the stored stones, so superko decisions are exact.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#define EMPTY 0
#define BLACK 1
#define WHITE 2
#define BORDER 3

#define MIN_SIZE 5
#define MAX_SIZE 19
#define MAX_W (MAX_SIZE + 2)
#define MAX_PTS (MAX_W * MAX_W)
#define MAX_MOVES (MAX_SIZE * MAX_SIZE)
#define MAX_WORDS ((MAX_MOVES + 63) / 64)

enum { LEGAL = 0, OCCUPIED, SUICIDE, SUPERKO, OFF_BOARD, GAME_OVER };
static const char *REASONS[] = {NULL, "occupied", "suicide", "superko", "off board", "game over"};

/* ------------------------------------------------------------------------------ tables */

static uint64_t ZOBRIST[3][MAX_PTS];          /* [colour][padded point]; row 0 unused */
static int16_t MOVE_TO_POINT[MAX_SIZE + 1][MAX_MOVES];
static int16_t POINT_TO_MOVE[MAX_SIZE + 1][MAX_PTS];  /* -1 on the border */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void init_tables(void)
{
    uint64_t seed = 0x5EED0060u; /* fixed: hashes are the same in every process */
    for (int c = 1; c <= 2; c++)
        for (int p = 0; p < MAX_PTS; p++)
            ZOBRIST[c][p] = splitmix64(&seed);
    for (int n = MIN_SIZE; n <= MAX_SIZE; n++) {
        int w = n + 2;
        for (int p = 0; p < MAX_PTS; p++)
            POINT_TO_MOVE[n][p] = -1;
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                int p = (r + 1) * w + c + 1;
                MOVE_TO_POINT[n][r * n + c] = (int16_t)p;
                POINT_TO_MOVE[n][p] = (int16_t)(r * n + c);
            }
    }
}

/* ------------------------------------------------------------------------------- board */

typedef struct {
    int16_t n, w, npts, nwords;   /* size, padded width, padded points, words per colour bitset */
    uint16_t off_next, off_head, off_libs, off_size, off_bits, off_bloom; /* byte offsets */
    uint32_t data_size;           /* bytes in data[] */
    uint32_t bloom_mask;          /* bloom filter bits - 1 */
    int8_t to_play, resigned, terminal, winner; /* winner: -1 until terminal */
    int32_t move_number, move_cap, passes, last_move; /* last_move: -1 none, n*n pass */
    int32_t captures[2];          /* stones captured by black, by white */
    double komi;
    uint64_t hash;
    uint64_t data[];              /* colour[npts] | next | head | libs | size | bits | bloom */
} Board;

#define COLOUR(b) ((uint8_t *)(b)->data)
#define NEXT(b) ((int16_t *)((uint8_t *)(b)->data + (b)->off_next))
#define HEAD(b) ((int16_t *)((uint8_t *)(b)->data + (b)->off_head))
#define LIBS(b) ((int16_t *)((uint8_t *)(b)->data + (b)->off_libs))
#define SIZE(b) ((int16_t *)((uint8_t *)(b)->data + (b)->off_size))
#define BITS(b) ((uint64_t *)((uint8_t *)(b)->data + (b)->off_bits)) /* black words, white words */
#define BLOOM(b) ((uint64_t *)((uint8_t *)(b)->data + (b)->off_bloom))

#define ALIGN8(x) (((x) + 7u) & ~7u)

/* Fills the geometry fields of a fresh board of size n; returns its data size in bytes. */
static uint32_t layout(Board *b, int n)
{
    int w = n + 2, npts = w * w;
    uint32_t bloom_bits = 512;
    while (bloom_bits < 16u * (uint32_t)(n * n))
        bloom_bits <<= 1;
    b->n = (int16_t)n;
    b->w = (int16_t)w;
    b->npts = (int16_t)npts;
    b->nwords = (int16_t)((n * n + 63) / 64);
    uint32_t off = ALIGN8((uint32_t)npts);
    b->off_next = (uint16_t)off;
    off = ALIGN8(off + 2u * npts);
    b->off_head = (uint16_t)off;
    off = ALIGN8(off + 2u * npts);
    b->off_libs = (uint16_t)off;
    off = ALIGN8(off + 2u * npts);
    b->off_size = (uint16_t)off;
    off = ALIGN8(off + 2u * npts);
    b->off_bits = (uint16_t)off;
    off += 16u * b->nwords;
    b->off_bloom = (uint16_t)off;
    off += bloom_bits / 8u;
    b->bloom_mask = bloom_bits - 1;
    b->data_size = off;
    return off;
}

#define MAX_DATA 16384 /* bytes; layout(19) needs about 6.5 KB */

static inline void set_bit(Board *b, int p, int c)
{
    int m = POINT_TO_MOVE[b->n][p];
    BITS(b)[(c - 1) * b->nwords + (m >> 6)] |= 1ULL << (m & 63);
}

static inline void clear_bit(Board *b, int p, int c)
{
    int m = POINT_TO_MOVE[b->n][p];
    BITS(b)[(c - 1) * b->nwords + (m >> 6)] &= ~(1ULL << (m & 63));
}

static inline void bloom_add(Board *b, uint64_t h)
{
    uint64_t *bloom = BLOOM(b);
    uint32_t i = (uint32_t)h & b->bloom_mask, j = (uint32_t)(h >> 32) & b->bloom_mask;
    bloom[i >> 6] |= 1ULL << (i & 63);
    bloom[j >> 6] |= 1ULL << (j & 63);
}

static inline int bloom_contains(const uint64_t *bloom, uint32_t mask, uint64_t h)
{
    uint32_t i = (uint32_t)h & mask, j = (uint32_t)(h >> 32) & mask;
    return ((bloom[i >> 6] >> (i & 63)) & (bloom[j >> 6] >> (j & 63)) & 1ULL) != 0;
}

static inline int bloom_has(const Board *b, uint64_t h)
{
    return bloom_contains(BLOOM(b), b->bloom_mask, h);
}

/* An empty board of size n with black to play; komi and move_cap are left to the caller. */
static void clear_board(Board *b, int n)
{
    uint32_t size = layout(b, n);
    memset(b->data, 0, size);
    uint8_t *colour = COLOUR(b);
    int w = b->w;
    for (int p = 0; p < b->npts; p++) {
        int r = p / w, c = p % w;
        colour[p] = (r == 0 || c == 0 || r == w - 1 || c == w - 1) ? BORDER : EMPTY;
    }
    b->to_play = BLACK;
    b->resigned = 0;
    b->terminal = 0;
    b->winner = -1;
    b->move_number = b->passes = 0;
    b->last_move = -1;
    b->captures[0] = b->captures[1] = 0;
    b->hash = 0;
}

/* Free points, kept only while a playout runs. */
typedef struct {
    int16_t pts[MAX_MOVES];
    int16_t pos[MAX_PTS];
    int count;
} Empties;

static inline void empties_add(Empties *e, int p)
{
    e->pos[p] = (int16_t)e->count;
    e->pts[e->count++] = (int16_t)p;
}

static inline void empties_remove(Empties *e, int p)
{
    int i = e->pos[p], last = e->pts[--e->count];
    e->pts[i] = (int16_t)last;
    e->pos[last] = (int16_t)i;
}

static inline void merge_chains(Board *b, int a, int c)
{
    int16_t *next = NEXT(b), *head = HEAD(b), *libs = LIBS(b), *size = SIZE(b);
    if (size[a] < size[c]) {
        int t = a;
        a = c;
        c = t;
    }
    int s = c;
    do {
        head[s] = (int16_t)a;
        s = next[s];
    } while (s != c);
    int16_t t = next[a];
    next[a] = next[c];
    next[c] = t;
    libs[a] = (int16_t)(libs[a] + libs[c]);
    size[a] = (int16_t)(size[a] + size[c]);
}

/* Puts a stone of colour c on empty point p and merges it with its friendly neighbours. */
static inline void add_stone(Board *b, int p, int c, Empties *e, int track_bits)
{
    uint8_t *colour = COLOUR(b);
    int16_t *next = NEXT(b), *head = HEAD(b), *libs = LIBS(b), *size = SIZE(b);
    const int nb[4] = {p - b->w, p - 1, p + 1, p + b->w};
    int free_nb = 0;
    colour[p] = (uint8_t)c;
    head[p] = next[p] = (int16_t)p;
    size[p] = 1;
    for (int i = 0; i < 4; i++) {
        int q = nb[i];
        if (colour[q] == EMPTY)
            free_nb++;
        else if (colour[q] != BORDER)
            libs[head[q]]--;
    }
    libs[p] = (int16_t)free_nb;
    for (int i = 0; i < 4; i++) {
        int q = nb[i];
        if (colour[q] == c && head[q] != head[p])
            merge_chains(b, head[p], head[q]);
    }
    b->hash ^= ZOBRIST[c][p];
    if (e)
        empties_remove(e, p);
    if (track_bits)
        set_bit(b, p, c);
}

/* Removes the chain with head h; returns its size. */
static int remove_chain(Board *b, int h, Empties *e, int track_bits)
{
    uint8_t *colour = COLOUR(b);
    int16_t *next = NEXT(b), *head = HEAD(b), *libs = LIBS(b);
    int c = colour[h], capturer = 3 - c, w = b->w, count = 0;
    int s = h;
    do {
        colour[s] = EMPTY;
        b->hash ^= ZOBRIST[c][s];
        if (e)
            empties_add(e, s);
        if (track_bits)
            clear_bit(b, s, c);
        const int nb[4] = {s - w, s - 1, s + 1, s + w};
        for (int i = 0; i < 4; i++)
            if (colour[nb[i]] == capturer)
                libs[head[nb[i]]]++;
        count++;
        s = next[s];
    } while (s != h);
    return count;
}

/* Plays a legal stone of colour c at p; returns the number of stones captured. */
static inline int place(Board *b, int p, int c, Empties *e, int track_bits)
{
    uint8_t *colour = COLOUR(b);
    int16_t *head = HEAD(b), *libs = LIBS(b);
    const int nb[4] = {p - b->w, p - 1, p + 1, p + b->w};
    int opp = 3 - c, captured = 0;
    add_stone(b, p, c, e, track_bits);
    for (int i = 0; i < 4; i++) {
        int q = nb[i];
        if (colour[q] == opp && libs[head[q]] == 0)
            captured += remove_chain(b, head[q], e, track_bits);
    }
    b->captures[c - 1] += captured;
    return captured;
}

/*
 * Classifies a stone of colour c at padded point p: LEGAL, OCCUPIED or SUICIDE (superko is
 * checked by the caller). For a legal move, *hash receives the hash of the resulting position
 * and, when captured is not NULL, the heads of the chains it captures are written there (up
 * to 4) with their count returned through *ncaptured.
 */
static inline int classify(const Board *b, int p, int c, uint64_t *hash, int *captured,
                           int *ncaptured)
{
    const uint8_t *colour = COLOUR(b);
    const int16_t *next = NEXT(b), *head = HEAD(b), *libs = LIBS(b);
    if (colour[p] != EMPTY)
        return OCCUPIED;
    const int nb[4] = {p - b->w, p - 1, p + 1, p + b->w};
    int heads[4], adjacent[4], nheads = 0, alive = 0, ncap = 0, opp = 3 - c;
    for (int i = 0; i < 4; i++) {
        int q = nb[i], col = colour[q];
        if (col == EMPTY) {
            alive = 1;
        } else if (col != BORDER) {
            int h = head[q], j = 0;
            while (j < nheads && heads[j] != h)
                j++;
            if (j == nheads) {
                heads[nheads] = h;
                adjacent[nheads++] = 0;
            }
            adjacent[j]++;
        }
    }
    uint64_t hh = b->hash ^ ZOBRIST[c][p];
    for (int j = 0; j < nheads; j++) {
        int h = heads[j];
        if (colour[h] == opp) {
            if (libs[h] == adjacent[j]) { /* p is its last liberty: captured */
                alive = 1;
                int s = h;
                do {
                    hh ^= ZOBRIST[opp][s];
                    s = next[s];
                } while (s != h);
                if (captured)
                    captured[ncap++] = h;
            }
        } else if (libs[h] > adjacent[j]) { /* a friendly chain with another liberty */
            alive = 1;
        }
    }
    if (!alive)
        return SUICIDE;
    *hash = hh;
    if (ncaptured)
        *ncaptured = ncap;
    return LEGAL;
}

/* Single-point eye of colour c: all orthogonal neighbours c or border, and fewer than two
 * opposing diagonal stones (none on the edge), so the eye cannot be falsified. */
static inline int is_eye(const Board *b, int p, int c)
{
    const uint8_t *colour = COLOUR(b);
    int w = b->w;
    int edge = 0;
    const int nb[4] = {p - w, p - 1, p + 1, p + w};
    for (int i = 0; i < 4; i++) {
        int col = colour[nb[i]];
        if (col == BORDER)
            edge = 1;
        else if (col != c)
            return 0;
    }
    const int dg[4] = {p - w - 1, p - w + 1, p + w - 1, p + w + 1};
    int opp = 3 - c, bad = edge;
    for (int i = 0; i < 4; i++)
        bad += colour[dg[i]] == opp;
    return bad < 2;
}

/* Tromp-Taylor areas; fills own[move] with +1/-1/0 when own is not NULL. */
static void compute_area(const Board *b, int *black, int *white, int8_t *own)
{
    const uint8_t *colour = COLOUR(b);
    uint8_t seen[MAX_PTS];
    int16_t stack[MAX_PTS], region[MAX_PTS];
    int n = b->n, w = b->w, area[3] = {0, 0, 0};
    memset(seen, 0, (size_t)b->npts);
    for (int m = 0; m < n * n; m++) {
        int p = MOVE_TO_POINT[n][m], col = colour[p];
        if (col != EMPTY) {
            area[col]++;
            if (own)
                own[m] = (int8_t)(col == BLACK ? 1 : -1);
            continue;
        }
        if (seen[p])
            continue;
        int top = 0, nregion = 0, reach = 0;
        stack[top++] = (int16_t)p;
        seen[p] = 1;
        while (top) {
            int q = stack[--top];
            region[nregion++] = (int16_t)q;
            const int nb[4] = {q - w, q - 1, q + 1, q + w};
            for (int i = 0; i < 4; i++) {
                int r = nb[i], rc = colour[r];
                if (rc == EMPTY) {
                    if (!seen[r]) {
                        seen[r] = 1;
                        stack[top++] = (int16_t)r;
                    }
                } else if (rc != BORDER) {
                    reach |= rc;
                }
            }
        }
        int owner = (reach == BLACK || reach == WHITE) ? reach : EMPTY;
        area[owner] += nregion;
        if (own)
            for (int i = 0; i < nregion; i++)
                own[POINT_TO_MOVE[n][region[i]]] =
                    (int8_t)(owner == BLACK ? 1 : owner == WHITE ? -1 : 0);
    }
    *black = area[BLACK];
    *white = area[WHITE];
}

static double board_score(const Board *b)
{
    int black, white;
    compute_area(b, &black, &white, NULL);
    return (double)black - (double)white - b->komi;
}

static void finish(Board *b)
{
    double s = board_score(b);
    b->terminal = 1;
    b->winner = (int8_t)(s > 0 ? BLACK : s < 0 ? WHITE : EMPTY);
}

/* Advances the turn after a move (stone or pass) and ends the game where the rules say so. */
static inline void end_turn(Board *b, int move)
{
    b->last_move = move;
    b->move_number++;
    b->to_play = (int8_t)(3 - b->to_play);
    if (b->passes >= 2 || b->move_number >= b->move_cap)
        finish(b);
}

/* ----------------------------------------------------------------------------- history */

typedef struct HistNode {
    struct HistNode *parent;
    Py_ssize_t refcnt;
    uint64_t hash;
    int16_t move;    /* the move that led here; -1 at the root */
    int8_t to_play;  /* colour to play in this position */
    uint64_t bits[]; /* black words then white words, as in Board */
} HistNode;

static HistNode *node_new(const Board *b, HistNode *parent, int move, int to_play)
{
    size_t words = 2u * (size_t)b->nwords;
    HistNode *node = PyMem_Malloc(sizeof(HistNode) + words * sizeof(uint64_t));
    if (!node) {
        PyErr_NoMemory();
        return NULL;
    }
    node->parent = parent;
    if (parent)
        parent->refcnt++;
    node->refcnt = 1;
    node->hash = b->hash;
    node->move = (int16_t)move;
    node->to_play = (int8_t)to_play;
    memcpy(node->bits, BITS(b), words * sizeof(uint64_t));
    return node;
}

static void node_release(HistNode *node)
{
    while (node && --node->refcnt == 0) {
        HistNode *parent = node->parent;
        PyMem_Free(node);
        node = parent;
    }
}

/* ------------------------------------------------------------------------ state object */

typedef struct {
    PyObject_VAR_HEAD
    HistNode *hist; /* the current position's node */
    Board b;        /* must stay last: its data block follows */
} State;

static PyTypeObject StateType;
static PyObject *IllegalMoveError; /* bound by setup() */

/* A state object with uninitialised contents. Python subclasses are garbage-collected types;
 * their instances get the GC header but stay untracked, since a state holds no references. */
static State *state_alloc(PyTypeObject *type, uint32_t data_size)
{
    State *s;
    if (PyType_IS_GC(type)) {
        s = PyObject_GC_NewVar(State, type, (Py_ssize_t)data_size);
    } else {
        s = (State *)PyObject_Malloc(sizeof(State) + data_size);
        if (!s)
            return (State *)PyErr_NoMemory();
        PyObject_InitVar((PyVarObject *)s, type, (Py_ssize_t)data_size);
    }
    if (s)
        s->hist = NULL;
    return s;
}

static State *state_clone(const State *src)
{
    State *s = state_alloc(Py_TYPE(src), src->b.data_size);
    if (!s)
        return NULL;
    memcpy(&s->b, &src->b, sizeof(Board) + src->b.data_size);
    s->hist = src->hist;
    s->hist->refcnt++;
    return s;
}

static void state_dealloc(State *s)
{
    node_release(s->hist);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* Has the position with hash h (stones: candidate bits) occurred in this state's history? */
static int seen_before(const State *s, uint64_t h, const uint64_t *bits)
{
    if (!bloom_has(&s->b, h))
        return 0;
    size_t bytes = 2u * (size_t)s->b.nwords * sizeof(uint64_t);
    for (const HistNode *node = s->hist; node; node = node->parent)
        if (node->hash == h && memcmp(node->bits, bits, bytes) == 0)
            return 1;
    return 0;
}

/* The stones after colour c plays p capturing the chains with heads captured[0..ncap). */
static void candidate_bits(const Board *b, int p, int c, const int *captured, int ncap,
                           uint64_t *out)
{
    const int16_t *next = NEXT(b);
    int n = b->n, words = b->nwords, opp = 3 - c;
    memcpy(out, BITS(b), 2u * (size_t)words * sizeof(uint64_t));
    int m = POINT_TO_MOVE[n][p];
    out[(c - 1) * words + (m >> 6)] |= 1ULL << (m & 63);
    for (int j = 0; j < ncap; j++) {
        int s = captured[j];
        do {
            int k = POINT_TO_MOVE[n][s];
            out[(opp - 1) * words + (k >> 6)] &= ~(1ULL << (k & 63));
            s = next[s];
        } while (s != captured[j]);
    }
}

/* Legality of a stone of the player to move at padded point p, superko included. */
static inline int stone_verdict(const State *s, int p)
{
    const Board *b = &s->b;
    uint64_t hash;
    int captured[4], ncap = 0;
    int verdict = classify(b, p, b->to_play, &hash, captured, &ncap);
    if (verdict == LEGAL && bloom_has(b, hash)) {
        uint64_t bits[2 * MAX_WORDS];
        candidate_bits(b, p, b->to_play, captured, ncap, bits);
        if (seen_before(s, hash, bits))
            verdict = SUPERKO;
    }
    return verdict;
}

/* Full legality of a move (unpadded index or pass) for the player to move. */
static int check_move(const State *s, long move)
{
    const Board *b = &s->b;
    int n = b->n;
    if (move < 0 || move > (long)n * n)
        return OFF_BOARD;
    if (b->terminal)
        return GAME_OVER;
    if (move == (long)n * n)
        return LEGAL;
    return stone_verdict(s, MOVE_TO_POINT[n][move]);
}

static int parse_move(PyObject *arg, long *move)
{
    if (PyFloat_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "a move is an int (row * size + col, or size * size for "
                                      "pass), got float %R", arg);
        return -1;
    }
    *move = PyLong_AsLong(arg);
    if (*move == -1 && PyErr_Occurred())
        return -1;
    return 0;
}

#define RESIGN_MOVE LONG_MIN /* stands for resignation in raise_illegal */

static PyObject *raise_illegal(const State *s, long move, int reason)
{
    if (!IllegalMoveError) {
        PyErr_Format(PyExc_ValueError, "illegal move %ld: %s", move, REASONS[reason]);
        return NULL;
    }
    PyObject *move_obj = move == RESIGN_MOVE ? Py_NewRef(Py_None) : PyLong_FromLong(move);
    if (!move_obj)
        return NULL;
    PyObject *err = PyObject_CallFunction(IllegalMoveError, "Osii", move_obj, REASONS[reason],
                                          (int)s->b.to_play, (int)s->b.n);
    Py_DECREF(move_obj);
    if (err) {
        PyErr_SetObject(IllegalMoveError, err);
        Py_DECREF(err);
    }
    return NULL;
}

/* Plays a legal move on a fresh clone and records the new position in its history. */
static int advance(State *child, int move)
{
    Board *b = &child->b;
    if (move == b->n * b->n) {
        b->passes++;
    } else {
        place(b, MOVE_TO_POINT[b->n][move], b->to_play, NULL, 1);
        b->passes = 0;
        bloom_add(b, b->hash);
    }
    HistNode *node = node_new(b, child->hist, move, 3 - b->to_play);
    if (!node)
        return -1;
    node_release(child->hist);
    child->hist = node;
    end_turn(b, move);
    return 0;
}

static PyObject *apply_move(const State *s, int move)
{
    State *child = state_clone(s);
    if (child && advance(child, move) < 0)
        Py_CLEAR(child);
    return (PyObject *)child;
}

static PyObject *State_play(State *self, PyObject *arg)
{
    long move;
    if (parse_move(arg, &move) < 0)
        return NULL;
    int verdict = check_move(self, move);
    if (verdict != LEGAL)
        return raise_illegal(self, move, verdict);
    return apply_move(self, (int)move);
}

static PyObject *State_is_legal(State *self, PyObject *arg)
{
    long move;
    if (parse_move(arg, &move) < 0)
        return NULL;
    return PyBool_FromLong(check_move(self, move) == LEGAL);
}

static PyObject *State_illegal_reason(State *self, PyObject *arg)
{
    long move;
    if (parse_move(arg, &move) < 0)
        return NULL;
    int verdict = check_move(self, move);
    if (verdict == LEGAL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(REASONS[verdict]);
}

/* Legality of every point (and pass) for the player to move, as 0/1 bytes into out[n*n+1];
 * returns the number of legal moves. */
static int legal_bytes(const State *s, uint8_t *out)
{
    const Board *b = &s->b;
    const int n = b->n, w = b->w, nn = n * n, c = b->to_play, opp = 3 - c;
    if (b->terminal) {
        memset(out, 0, (size_t)nn + 1);
        return 0;
    }
    /* locals, not fields: stores through `out` (a byte pointer) may alias any field */
    const uint8_t *colour = COLOUR(b);
    const uint64_t hash = b->hash, *keys = ZOBRIST[c], *bloom = BLOOM(b);
    const uint32_t bloom_mask = b->bloom_mask;
    int count = 0;
    for (int row = 0, m = 0; row < n; row++) {
        for (int col = 0, p = (row + 1) * w + 1; col < n; col++, p++, m++) {
            int legal;
            if (colour[p] != EMPTY) {
                legal = 0;
            } else {
                int up = colour[p - w], left = colour[p - 1], right = colour[p + 1],
                    down = colour[p + w];
                /* fast path: an empty neighbour and no opposing one, so no capture and no
                 * suicide; the position differs from the current one by this stone alone */
                if ((up == EMPTY || left == EMPTY || right == EMPTY || down == EMPTY) &&
                    up != opp && left != opp && right != opp && down != opp)
                    legal = !bloom_contains(bloom, bloom_mask, hash ^ keys[p]) ||
                            stone_verdict(s, p) == LEGAL;
                else
                    legal = stone_verdict(s, p) == LEGAL;
            }
            out[m] = (uint8_t)legal;
            count += legal;
        }
    }
    out[nn] = 1;
    return count + 1;
}

/* numpy, bound by setup(): arrays are made by numpy.empty and filled here. */
static PyObject *np_empty, *dtype_bool, *dtype_int8, *dtype_float32;

/* The head of a numpy ndarray (numpy's PyArrayObject_fields, a stable part of its ABI): the
 * data pointer follows the object header. Reading it costs far less than exporting a buffer;
 * setup() checks it against the buffer protocol and falls back to that if they disagree. */
typedef struct {
    PyObject_HEAD
    char *data;
} NumpyArrayHead;
static int np_head_ok;

/* A new C-contiguous numpy array of shape (d0[, d1[, d2]]); *data receives its memory. */
static PyObject *new_array(PyObject *dtype, void **data, int ndim, Py_ssize_t d0, Py_ssize_t d1,
                           Py_ssize_t d2)
{
    if (!np_empty) {
        PyErr_SetString(PyExc_RuntimeError, "envs.go._core.setup() was not called");
        return NULL;
    }
    PyObject *shape = ndim == 1   ? PyLong_FromSsize_t(d0)
                      : ndim == 2 ? Py_BuildValue("(nn)", d0, d1)
                                  : Py_BuildValue("(nnn)", d0, d1, d2);
    if (!shape)
        return NULL;
    PyObject *args[2] = {shape, dtype};
    PyObject *array = PyObject_Vectorcall(np_empty, args, 2, NULL);
    Py_DECREF(shape);
    if (!array)
        return NULL;
    if (np_head_ok) {
        *data = ((NumpyArrayHead *)array)->data;
        return array;
    }
    Py_buffer view; /* the array owns its memory: the pointer outlives the view */
    if (PyObject_GetBuffer(array, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(array);
        return NULL;
    }
    *data = view.buf;
    PyBuffer_Release(&view);
    return array;
}

static PyObject *State_legal_mask(State *self, PyObject *Py_UNUSED(ignored))
{
    void *data;
    PyObject *mask = new_array(dtype_bool, &data, 1, (Py_ssize_t)self->b.n * self->b.n + 1, 0, 0);
    if (mask)
        legal_bytes(self, data);
    return mask;
}

static PyObject *State_legal_moves(State *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t mask[MAX_MOVES + 1];
    int nn = self->b.n * self->b.n, count = legal_bytes(self, mask);
    PyObject *list = PyList_New(count);
    if (!list)
        return NULL;
    for (int m = 0, i = 0; m <= nn; m++) {
        if (!mask[m])
            continue;
        PyObject *item = PyLong_FromLong(m);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i++, item);
    }
    return list;
}

static PyObject *State_board(State *self, PyObject *Py_UNUSED(ignored))
{
    const Board *b = &self->b;
    void *data;
    PyObject *board = new_array(dtype_int8, &data, 2, b->n, b->n, 0);
    if (!board)
        return NULL;
    int8_t *out = data;
    const uint8_t *colour = COLOUR(b);
    for (int m = 0; m < b->n * b->n; m++)
        out[m] = (int8_t)colour[MOVE_TO_POINT[b->n][m]];
    return board;
}

static PyObject *State_eye_mask(State *self, PyObject *arg)
{
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred())
        return NULL;
    if (c != BLACK && c != WHITE)
        return PyErr_Format(PyExc_ValueError, "colour must be BLACK (1) or WHITE (2), got %ld", c);
    const Board *b = &self->b;
    void *data;
    PyObject *mask = new_array(dtype_bool, &data, 1, (Py_ssize_t)b->n * b->n, 0, 0);
    if (!mask)
        return NULL;
    uint8_t *out = data;
    const uint8_t *colour = COLOUR(b);
    for (int m = 0; m < b->n * b->n; m++) {
        int p = MOVE_TO_POINT[b->n][m];
        out[m] = colour[p] == EMPTY && is_eye(b, p, (int)c);
    }
    return mask;
}

static PyObject *State_ownership(State *self, PyObject *Py_UNUSED(ignored))
{
    void *data;
    int black, white;
    PyObject *own = new_array(dtype_int8, &data, 2, self->b.n, self->b.n, 0);
    if (own)
        compute_area(&self->b, &black, &white, data);
    return own;
}

static PyObject *State_planes(State *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"history", "perspective", NULL};
    int k = 0;
    PyObject *perspective = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iO", keywords, &k, &perspective))
        return NULL;
    const Board *b = &self->b;
    int n = b->n, nn = n * n, words = b->nwords, me = b->to_play;
    if (k < 0)
        return PyErr_Format(PyExc_ValueError, "history must be >= 0, got %d", k);
    if (perspective != Py_None) {
        me = (int)PyLong_AsLong(perspective);
        if (me == -1 && PyErr_Occurred())
            return NULL;
        if (me != BLACK && me != WHITE)
            return PyErr_Format(PyExc_ValueError,
                                "perspective must be BLACK (1), WHITE (2) or None, got %d", me);
    }
    void *data;
    PyObject *planes = new_array(dtype_float32, &data, 3, 5 + 2 * k, n, n);
    if (!planes)
        return NULL;
    float *out = data;
    memset(out, 0, (size_t)(5 + 2 * k) * nn * sizeof(float));
    const uint8_t *colour = COLOUR(b);
    uint8_t legal[MAX_MOVES + 1];
    legal_bytes(self, legal);
    for (int m = 0; m < nn; m++) {
        int col = colour[MOVE_TO_POINT[n][m]];
        out[m] = col == me;
        out[nn + m] = col == 3 - me;
        out[2 * nn + m] = col == EMPTY;
        out[3 * nn + m] = legal[m];
        out[4 * nn + m] = me == BLACK;
    }
    const HistNode *node = self->hist->parent;
    for (int i = 0; i < k && node; i++, node = node->parent) {
        float *own = out + (size_t)(5 + 2 * i) * nn, *opp = own + nn;
        const uint64_t *mine = node->bits + (me - 1) * words;
        const uint64_t *theirs = node->bits + (2 - me) * words;
        for (int m = 0; m < nn; m++) {
            own[m] = (float)((mine[m >> 6] >> (m & 63)) & 1);
            opp[m] = (float)((theirs[m >> 6] >> (m & 63)) & 1);
        }
    }
    return planes;
}

static PyObject *State_copy(State *self, PyObject *Py_UNUSED(ignored))
{
    return (PyObject *)state_clone(self);
}

static PyObject *State_resign(State *self, PyObject *Py_UNUSED(ignored))
{
    if (self->b.terminal)
        return raise_illegal(self, RESIGN_MOVE, GAME_OVER);
    State *s = state_clone(self);
    if (!s)
        return NULL;
    s->b.terminal = 1;
    s->b.resigned = s->b.to_play;
    s->b.winner = (int8_t)(3 - s->b.to_play);
    return (PyObject *)s;
}

static PyObject *State_area(State *self, PyObject *Py_UNUSED(ignored))
{
    int black, white;
    compute_area(&self->b, &black, &white, NULL);
    return Py_BuildValue("(ii)", black, white);
}

static PyObject *State_score(State *self, PyObject *Py_UNUSED(ignored))
{
    return PyFloat_FromDouble(board_score(&self->b));
}

/* Builds a state of the given type from a board of the history root (the initial position). */
static State *state_from_node(PyTypeObject *type, const Board *geometry, const HistNode *root);

static PyObject *State_initial(State *self, PyObject *Py_UNUSED(ignored))
{
    HistNode *root = self->hist;
    while (root->parent)
        root = root->parent;
    return (PyObject *)state_from_node(Py_TYPE(self), &self->b, root);
}

/* ----------------------------------------------------------------------------- playouts */

typedef struct {
    uint64_t s[2];
} Rng;

static inline uint64_t rng_next(Rng *r) /* xorshift128+ */
{
    uint64_t x = r->s[0];
    const uint64_t y = r->s[1];
    r->s[0] = y;
    x ^= x << 23;
    r->s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return r->s[1] + y;
}

static inline uint32_t rng_below(Rng *r, uint32_t k) /* uniform in [0, k), Lemire's method */
{
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * k;
    uint32_t low = (uint32_t)m;
    if (low < k) {
        uint32_t threshold = (uint32_t)(-k) % k;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * k;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Open-addressing set of 64-bit position hashes (0 marks a free slot; the empty board's hash
 * is 0, so it is tracked by a flag). */
typedef struct {
    uint64_t *slots;
    size_t mask, count;
    int has_zero;
} HashSet;

static int hashset_init(HashSet *set, size_t expected)
{
    size_t cap = 64;
    while (cap < 2 * expected)
        cap <<= 1;
    set->slots = PyMem_Calloc(cap, sizeof(uint64_t));
    if (!set->slots) {
        PyErr_NoMemory();
        return -1;
    }
    set->mask = cap - 1;
    set->count = 0;
    set->has_zero = 0;
    return 0;
}

static inline int hashset_has(const HashSet *set, uint64_t h)
{
    if (h == 0)
        return set->has_zero;
    for (size_t i = (size_t)h & set->mask;; i = (i + 1) & set->mask) {
        if (set->slots[i] == h)
            return 1;
        if (set->slots[i] == 0)
            return 0;
    }
}

static int hashset_add(HashSet *set, uint64_t h)
{
    if (h == 0) {
        set->has_zero = 1;
        return 0;
    }
    if (2 * (set->count + 1) > set->mask + 1) {
        size_t old_cap = set->mask + 1;
        uint64_t *old = set->slots;
        set->slots = PyMem_Calloc(2 * old_cap, sizeof(uint64_t));
        if (!set->slots) {
            set->slots = old;
            PyErr_NoMemory();
            return -1;
        }
        set->mask = 2 * old_cap - 1;
        set->count = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i] && hashset_add(set, old[i]) < 0)
                return -1;
        PyMem_Free(old);
    }
    size_t i = (size_t)h & set->mask;
    while (set->slots[i] != 0 && set->slots[i] != h)
        i = (i + 1) & set->mask;
    if (set->slots[i] == 0) {
        set->slots[i] = h;
        set->count++;
    }
    return 0;
}

/*
 * Plays uniformly random legal moves, never filling the mover's own single-point eyes, until
 * the game ends; the mover passes only when no such move is left. Superko is checked against
 * the game's history by 64-bit hash (a collision, with odds near 1e-13 per playout, could only
 * make the playout skip a legal move, never play an illegal one). The playout's moves are
 * written to moves[] (passes as n*n) when moves is not NULL; returns the number of moves
 * played, or -1 with an exception set.
 */
static long run_playout(const State *s, Board *b, uint64_t seed, int16_t **moves)
{
    Empties empties;
    int16_t candidates[MAX_MOVES];
    HashSet seen;
    if (moves)
        *moves = NULL;
    size_t history = 0;
    for (const HistNode *node = s->hist; node; node = node->parent)
        history++;
    long remaining = (long)b->move_cap - b->move_number;
    if (remaining < 0)
        remaining = 0;
    if (hashset_init(&seen, history + (size_t)(remaining < 4096 ? remaining : 4096)) < 0)
        return -1;
    for (const HistNode *node = s->hist; node; node = node->parent)
        if (hashset_add(&seen, node->hash) < 0)
            goto fail;
    long capacity = 0, played = 0;
    if (moves) {
        capacity = remaining < 1024 ? (remaining > 16 ? remaining : 16) : 1024;
        *moves = PyMem_Malloc((size_t)capacity * sizeof(int16_t));
        if (!*moves) {
            PyErr_NoMemory();
            goto fail;
        }
    }
    int n = b->n, nn = n * n;
    const uint8_t *colour = COLOUR(b);
    empties.count = 0;
    for (int m = 0; m < nn; m++) {
        int p = MOVE_TO_POINT[n][m];
        if (colour[p] == EMPTY)
            empties_add(&empties, p);
    }
    Rng rng;
    uint64_t x = seed;
    rng.s[0] = splitmix64(&x);
    rng.s[1] = splitmix64(&x) | 1;
    while (!b->terminal) {
        int c = b->to_play, point = -1, move = nn; /* point: padded, -1 for pass */
        uint32_t k = (uint32_t)empties.count;
        uint64_t hash = 0;
        memcpy(candidates, empties.pts, k * sizeof(int16_t));
        while (k > 0) {
            uint32_t i = rng_below(&rng, k);
            int p = candidates[i];
            if (!is_eye(b, p, c) && classify(b, p, c, &hash, NULL, NULL) == LEGAL &&
                !hashset_has(&seen, hash)) {
                point = p;
                break;
            }
            candidates[i] = candidates[--k];
        }
        if (point < 0) {
            b->passes++;
        } else {
            place(b, point, c, &empties, 0);
            b->passes = 0;
            if (hashset_add(&seen, hash) < 0)
                goto fail;
            move = POINT_TO_MOVE[n][point];
        }
        if (moves) {
            if (played == capacity) {
                capacity *= 2;
                int16_t *grown = PyMem_Realloc(*moves, (size_t)capacity * sizeof(int16_t));
                if (!grown) {
                    PyErr_NoMemory();
                    goto fail;
                }
                *moves = grown;
            }
            (*moves)[played] = (int16_t)move;
        }
        played++;
        end_turn(b, move);
    }
    PyMem_Free(seen.slots);
    return played;
fail:
    PyMem_Free(seen.slots);
    if (moves) {
        PyMem_Free(*moves);
        *moves = NULL;
    }
    return -1;
}

typedef union {
    Board b;
    uint8_t bytes[sizeof(Board) + MAX_DATA];
} BoardBuffer;

/* rollout(seed) -> (winner, score, moves): a random playout without building states. */
static PyObject *State_rollout(State *self, PyObject *arg)
{
    uint64_t seed = PyLong_AsUnsignedLongLongMask(arg);
    if (PyErr_Occurred())
        return NULL;
    BoardBuffer buf;
    memcpy(&buf.b, &self->b, sizeof(Board) + self->b.data_size);
    long played = run_playout(self, &buf.b, seed, NULL);
    if (played < 0)
        return NULL;
    return Py_BuildValue("(idl)", (int)buf.b.winner, board_score(&buf.b), played);
}

/* random_playout(seed) -> the final state, its moves and history recorded as if played. */
static PyObject *State_random_playout(State *self, PyObject *arg)
{
    uint64_t seed = PyLong_AsUnsignedLongLongMask(arg);
    if (PyErr_Occurred())
        return NULL;
    BoardBuffer buf;
    int16_t *moves = NULL;
    memcpy(&buf.b, &self->b, sizeof(Board) + self->b.data_size);
    long played = run_playout(self, &buf.b, seed, &moves);
    if (played < 0)
        return NULL;
    /* Replay the recorded moves through the per-move path so that every history node holds its
     * exact position; the moves are known legal, so no checks are repeated. */
    PyObject *s = (PyObject *)state_clone(self);
    for (long i = 0; s && i < played; i++)
        Py_SETREF(s, apply_move((State *)s, moves[i]));
    PyMem_Free(moves);
    return (PyObject *)s;
}

/* ---------------------------------------------------------------------------- creation */

static State *state_from_node(PyTypeObject *type, const Board *geometry, const HistNode *root)
{
    int n = geometry->n, words = geometry->nwords;
    BoardBuffer buf;
    Board *b = &buf.b;
    clear_board(b, n);
    for (int m = 0; m < n * n; m++)
        for (int c = BLACK; c <= WHITE; c++)
            if ((root->bits[(c - 1) * words + (m >> 6)] >> (m & 63)) & 1)
                add_stone(b, MOVE_TO_POINT[n][m], c, NULL, 1);
    b->to_play = root->to_play;
    b->komi = geometry->komi;
    b->move_cap = geometry->move_cap;
    bloom_add(b, b->hash);
    State *s = state_alloc(type, b->data_size);
    if (!s)
        return NULL;
    memcpy(&s->b, b, sizeof(Board) + b->data_size);
    s->hist = (HistNode *)root;
    s->hist->refcnt++;
    return s;
}

static const char *COLOUR_NAMES[] = {"empty", "black", "white"};

/* new_state(cls, size, komi, move_cap, board: bytes[size*size], to_play) */
static PyObject *core_new_state(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyTypeObject *type;
    int n, move_cap, to_play;
    double komi;
    Py_buffer board;
    if (!PyArg_ParseTuple(args, "O!idiy*i", &PyType_Type, &type, &n, &komi, &move_cap, &board,
                          &to_play))
        return NULL;
    if (!PyType_IsSubtype(type, &StateType)) {
        PyBuffer_Release(&board);
        return PyErr_Format(PyExc_TypeError, "%s is not a state type", type->tp_name);
    }
    PyObject *result = NULL;
    if (n < MIN_SIZE || n > MAX_SIZE) {
        PyErr_Format(PyExc_ValueError, "board size must be %d..%d, got %d", MIN_SIZE, MAX_SIZE,
                     n);
        goto done;
    }
    if (board.len != (Py_ssize_t)n * n) {
        PyErr_Format(PyExc_ValueError, "board must have %d points, got %zd", n * n, board.len);
        goto done;
    }
    if (to_play != BLACK && to_play != WHITE) {
        PyErr_Format(PyExc_ValueError, "to_play must be BLACK (1) or WHITE (2), got %d", to_play);
        goto done;
    }
    if (move_cap < 1) {
        PyErr_Format(PyExc_ValueError, "move_cap must be >= 1, got %d", move_cap);
        goto done;
    }
    BoardBuffer buf;
    Board *b = &buf.b;
    clear_board(b, n);
    const uint8_t *cells = board.buf;
    for (int m = 0; m < n * n; m++) {
        int c = cells[m];
        if (c > WHITE) {
            PyErr_Format(PyExc_ValueError,
                         "board value %d at row %d, col %d is not EMPTY (0), BLACK (1) or WHITE (2)",
                         c, m / n, m % n);
            goto done;
        }
        if (c != EMPTY)
            add_stone(b, MOVE_TO_POINT[n][m], c, NULL, 1);
    }
    const int16_t *head = HEAD(b), *libs = LIBS(b);
    const uint8_t *colour = COLOUR(b);
    for (int m = 0; m < n * n; m++) {
        int p = MOVE_TO_POINT[n][m];
        if (colour[p] != EMPTY && libs[head[p]] == 0) {
            PyErr_Format(PyExc_ValueError,
                         "the %s group at row %d, col %d has no liberties (a captured group "
                         "cannot stand on the board)", COLOUR_NAMES[colour[p]], m / n, m % n);
            goto done;
        }
    }
    b->to_play = (int8_t)to_play;
    b->komi = komi;
    b->move_cap = move_cap;
    bloom_add(b, b->hash);
    State *s = state_alloc(type, b->data_size);
    if (!s)
        goto done;
    memcpy(&s->b, b, sizeof(Board) + b->data_size);
    s->hist = node_new(b, NULL, -1, b->to_play);
    if (!s->hist) {
        Py_DECREF(s);
        goto done;
    }
    result = (PyObject *)s;
done:
    PyBuffer_Release(&board);
    return result;
}

/* setup(illegal_move_error, numpy): binds the exception class raised for illegal moves (called
 * as cls(move, reason, colour, size)) and numpy, which makes the arrays states return. */
static PyObject *core_setup(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *error, *numpy;
    if (!PyArg_ParseTuple(args, "OO", &error, &numpy))
        return NULL;
    PyObject *empty = PyObject_GetAttrString(numpy, "empty");
    PyObject *dtype = PyObject_GetAttrString(numpy, "dtype");
    PyObject *dtypes[3] = {NULL, NULL, NULL};
    const char *names[3] = {"bool", "int8", "float32"};
    int ok = empty && dtype;
    for (int i = 0; ok && i < 3; i++) {
        dtypes[i] = PyObject_CallFunction(dtype, "s", names[i]);
        ok = dtypes[i] != NULL;
    }
    Py_XDECREF(dtype);
    if (!ok) {
        Py_XDECREF(empty);
        for (int i = 0; i < 3; i++)
            Py_XDECREF(dtypes[i]);
        return NULL;
    }
    Py_INCREF(error);
    Py_XSETREF(IllegalMoveError, error);
    Py_XSETREF(np_empty, empty);
    Py_XSETREF(dtype_bool, dtypes[0]);
    Py_XSETREF(dtype_int8, dtypes[1]);
    Py_XSETREF(dtype_float32, dtypes[2]);
    /* read the data pointer from the array head only where it is the exported buffer */
    np_head_ok = 0;
    void *data;
    PyObject *probe = new_array(dtype_float32, &data, 3, 2, 3, 4);
    if (!probe)
        return NULL;
    np_head_ok = ((NumpyArrayHead *)probe)->data == data;
    Py_DECREF(probe);
    Py_RETURN_NONE;
}

/* zobrist_key(colour, move, size) -> the hash key of a stone (for from-scratch checks). */
static PyObject *core_zobrist_key(PyObject *Py_UNUSED(module), PyObject *args)
{
    int colour, move, n;
    if (!PyArg_ParseTuple(args, "iii", &colour, &move, &n))
        return NULL;
    if (n < MIN_SIZE || n > MAX_SIZE || move < 0 || move >= n * n ||
        (colour != BLACK && colour != WHITE))
        return PyErr_Format(PyExc_ValueError, "no key for colour %d, move %d, size %d", colour,
                            move, n);
    return PyLong_FromUnsignedLongLong(ZOBRIST[colour][MOVE_TO_POINT[n][move]]);
}

/* ---------------------------------------------------------------------------- getters */

static PyObject *get_board_size(State *s, void *c) { return PyLong_FromLong(s->b.n); }
static PyObject *get_komi(State *s, void *c) { return PyFloat_FromDouble(s->b.komi); }
static PyObject *get_to_play(State *s, void *c) { return PyLong_FromLong(s->b.to_play); }
static PyObject *get_move_number(State *s, void *c) { return PyLong_FromLong(s->b.move_number); }
static PyObject *get_move_cap(State *s, void *c) { return PyLong_FromLong(s->b.move_cap); }
static PyObject *get_passes(State *s, void *c) { return PyLong_FromLong(s->b.passes); }
static PyObject *get_pass_move(State *s, void *c) { return PyLong_FromLong(s->b.n * s->b.n); }
static PyObject *get_is_terminal(State *s, void *c) { return PyBool_FromLong(s->b.terminal); }
static PyObject *get_hash(State *s, void *c) { return PyLong_FromUnsignedLongLong(s->b.hash); }

static PyObject *get_last_move(State *s, void *c)
{
    if (s->b.last_move < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(s->b.last_move);
}

static PyObject *get_captures(State *s, void *c)
{
    return Py_BuildValue("(ii)", s->b.captures[0], s->b.captures[1]);
}

static PyObject *get_winner(State *s, void *c)
{
    if (!s->b.terminal)
        Py_RETURN_NONE;
    return PyLong_FromLong(s->b.winner);
}

static PyObject *get_resigned(State *s, void *c)
{
    if (!s->b.resigned)
        Py_RETURN_NONE;
    return PyLong_FromLong(s->b.resigned);
}

static PyObject *get_moves(State *s, void *c)
{
    Py_ssize_t count = 0;
    for (const HistNode *node = s->hist; node->parent; node = node->parent)
        count++;
    PyObject *tuple = PyTuple_New(count);
    if (!tuple)
        return NULL;
    const HistNode *node = s->hist;
    for (Py_ssize_t i = count - 1; i >= 0; i--, node = node->parent) {
        PyObject *item = PyLong_FromLong(node->move);
        if (!item) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    return tuple;
}

static PyGetSetDef State_getset[] = {
    {"board_size", (getter)get_board_size, NULL, "Board side length [points].", NULL},
    {"komi", (getter)get_komi, NULL, "Points added to white's area.", NULL},
    {"to_play", (getter)get_to_play, NULL, "Colour to move: BLACK (1) or WHITE (2).", NULL},
    {"move_number", (getter)get_move_number, NULL, "Moves played since creation.", NULL},
    {"move_cap", (getter)get_move_cap, NULL, "The game ends once this many moves are played.",
     NULL},
    {"consecutive_passes", (getter)get_passes, NULL, "Passes in a row just played.", NULL},
    {"pass_move", (getter)get_pass_move, NULL, "The pass move, size * size.", NULL},
    {"is_terminal", (getter)get_is_terminal, NULL, "Two passes, resignation or the move cap.",
     NULL},
    {"hash", (getter)get_hash, NULL, "Zobrist hash of the stones (colour to play excluded).",
     NULL},
    {"last_move", (getter)get_last_move, NULL, "The last move played, or None.", NULL},
    {"captures", (getter)get_captures, NULL, "(stones captured by black, by white).", NULL},
    {"winner", (getter)get_winner, NULL, "BLACK, WHITE or EMPTY (draw) once terminal, else None.",
     NULL},
    {"resigned", (getter)get_resigned, NULL, "The colour that resigned, or None.", NULL},
    {"moves", (getter)get_moves, NULL, "Moves played since creation, passes included.", NULL},
    {NULL},
};

static PyMethodDef State_methods[] = {
    {"play", (PyCFunction)State_play, METH_O,
     "play(move) -> the state after move; raises IllegalMoveError."},
    {"is_legal", (PyCFunction)State_is_legal, METH_O, "is_legal(move) -> bool."},
    {"illegal_reason", (PyCFunction)State_illegal_reason, METH_O,
     "illegal_reason(move) -> None if legal, else 'occupied', 'suicide', 'superko', "
     "'off board' or 'game over'."},
    {"legal_moves", (PyCFunction)State_legal_moves, METH_NOARGS,
     "legal_moves() -> list of legal moves (pass last while the game goes on)."},
    {"legal_mask", (PyCFunction)State_legal_mask, METH_NOARGS,
     "legal_mask() -> [N*N + 1] bool: legal moves for the player to move, pass last (all "
     "False once the game is over)."},
    {"board", (PyCFunction)State_board, METH_NOARGS,
     "board() -> [N, N] int8 copy of the stones: EMPTY, BLACK or WHITE, row 0 at the top."},
    {"eye_mask", (PyCFunction)State_eye_mask, METH_O,
     "eye_mask(colour) -> [N*N] bool: the empty points that are single-point eyes of colour, "
     "the points random playouts never fill (see GoState.rollout)."},
    {"ownership", (PyCFunction)State_ownership, METH_NOARGS,
     "ownership() -> [N, N] int8 Tromp-Taylor ownership: +1 black area, -1 white area, 0 "
     "neutral."},
    {"planes", (PyCFunction)(void (*)(void))State_planes, METH_VARARGS | METH_KEYWORDS,
     "planes(history=0, perspective=None) -> [5 + 2 * history, N, N] float32 features from the "
     "point of view of colour `perspective` (default: the player to move): own stones, "
     "opponent stones, empty points, legal moves of the player to move, own colour (all ones "
     "for black), then for i = 1..history the own and opponent stones of the position i moves "
     "ago (zeros before the game's first position)."},
    {"copy", (PyCFunction)State_copy, METH_NOARGS, "copy() -> an equal state."},
    {"resign", (PyCFunction)State_resign, METH_NOARGS,
     "resign() -> the terminal state where the player to move has resigned."},
    {"area", (PyCFunction)State_area, METH_NOARGS,
     "area() -> (black, white) Tromp-Taylor areas: stones plus empty regions reaching only "
     "that colour [points]."},
    {"score", (PyCFunction)State_score, METH_NOARGS,
     "score() -> black area - white area - komi [points]; positive when black leads."},
    {"initial", (PyCFunction)State_initial, METH_NOARGS,
     "initial() -> the state this game started from (before any of `moves`)."},
    {"rollout", (PyCFunction)State_rollout, METH_O,
     "rollout(seed) -> (winner, score, moves) of a random playout (see GoState.rollout)."},
    {"random_playout", (PyCFunction)State_random_playout, METH_O,
     "random_playout(seed) -> the final state of the same game as rollout(seed), its moves "
     "and history recorded; final.move_number - self.move_number moves were played."},
    {NULL},
};

static PyTypeObject StateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "envs.go._core.State",
    .tp_basicsize = sizeof(State),
    .tp_itemsize = 1,
    .tp_dealloc = (destructor)state_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Go position with its game history; create through envs.go.rules.GoState.",
    .tp_methods = State_methods,
    .tp_getset = State_getset,
};

static PyMethodDef core_methods[] = {
    {"new_state", core_new_state, METH_VARARGS,
     "new_state(cls, size, komi, move_cap, board_bytes, to_play) -> a fresh state of type cls."},
    {"setup", core_setup, METH_VARARGS,
     "setup(illegal_move_error, numpy): bind the exception class for illegal moves and numpy."},
    {"zobrist_key", core_zobrist_key, METH_VARARGS,
     "zobrist_key(colour, move, size) -> the 64-bit hash key of that stone."},
    {NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "envs.go._core",
    .m_doc = "Go rules core (see envs.go.rules).",
    .m_size = -1,
    .m_methods = core_methods,
};

PyMODINIT_FUNC PyInit__core(void)
{
    init_tables();
    if (PyType_Ready(&StateType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m)
        return NULL;
    Py_INCREF(&StateType);
    if (PyModule_AddObject(m, "State", (PyObject *)&StateType) < 0 ||
        PyModule_AddIntConstant(m, "MIN_SIZE", MIN_SIZE) < 0 ||
        PyModule_AddIntConstant(m, "MAX_SIZE", MAX_SIZE) < 0) {
        Py_DECREF(&StateType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
