// tb_sampler: the token sampler (lg_sampler) against its C twin
// lg_ref_sample / lg_ref_argmax, token by token.
//
// The model (tb_sampler_top, verilated with --prefix Vdut) holds six
// instances (tests/hdl/gen_mem_units.c): vocab 512 (a_*, the 260k
// vocabulary) and vocab 5 (b_*, not a power of two), and the mul_share form
// (lg_sampler_share.v) at vocab 512 (c_*, the iCEBreaker shape), 5 (d_*),
// 300 (e_*, not a power of two) and 2 (f_*, the smallest), each through the same kinds of sequences
// (from reset, with stalls, stall-free, boundary). For each, long
// sequences of logit vectors are sampled with one seed (reseeded a few
// times, seed 0 included), and the C twin with its own PRNG state predicts
// every token, so the xorshift32 state sequence must match across thousands
// of draws (and must not move at temperature 0). Logit vectors: random small
// and full-range, ties (several maxima), all equal, extremes +-(2^31 - 1)
// and -2^31, one-hot, and (a sequence of their own) around the negative
// saturation of z at inv_temp 1.0. inv_temp: 0, small, 1.0, 2.0, 0.5, 2^24 - 1, and
// values above it (clamped); the inv_temp port is scrambled after the first
// logit of a vector (it must be sampled only with the first), except for the
// mul_share form, which reads it until the token is taken (held then). Boundary
// vectors put u exactly on a cumulative sum (see boundary_vec), so that one
// LSB of error anywhere in z, p, S or u, or >= for >, changes the token.
// Random valid gaps on s_logit and random backpressure on m_tok, valid held /
// data stable while stalled, s_logit_ready low while a token is pending.
// Without stalls the latency must match lg_sampler_latency (= the module
// header's VOCAB + TOK + 55, mul_share 31 * VOCAB + 31 * TOK + 228, and 1 at
// inv_temp 0).
// Plusargs: +seed=N (default 1), +n=VECTORS (default 1500), +trace[=FILE].
#include "Vdut.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_mem.h"
#include "llamagen/ref.h"
}

#include <cstdio>
#include <random>
#include <vector>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static bool chance(int pct) { return (int)(rng() % 100) < pct; }
static int errors = 0;
static lg_luts luts;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 20) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

// ---- one instance's ports --------------------------------------------------------

struct Io {
    virtual ~Io() {}
    virtual void drive(uint32_t inv_temp, bool seed_we, uint8_t seed_byte, bool valid,
                       int32_t logit, bool ready) = 0;
    virtual bool s_ready() = 0;
    virtual bool valid() = 0;
    virtual int tok() = 0;
};

#define IO_CLASS(P)                                                                          \
    struct Io_##P : Io {                                                                     \
        Vdut *m;                                                                  \
        explicit Io_##P(Vdut *mm) : m(mm) {}                                      \
        void drive(uint32_t it, bool sw, uint8_t sb, bool v, int32_t x, bool r) override     \
        {                                                                                    \
            m->P##_inv_temp = it;                                                            \
            m->P##_seed_we = sw;                                                             \
            m->P##_seed_byte = sb;                                                           \
            m->P##_s_valid = v;                                                              \
            m->P##_s_data = (uint32_t)x;                                                     \
            m->P##_m_ready = r;                                                              \
        }                                                                                    \
        bool s_ready() override { return m->P##_s_ready; }                                   \
        bool valid() override { return m->P##_m_valid; }                                     \
        int tok() override { return (int)m->P##_m_data; }                                    \
    };

IO_CLASS(a)
IO_CLASS(b)
IO_CLASS(c)
IO_CLASS(d)
IO_CLASS(e)
IO_CLASS(f)

// ---- stimuli ------------------------------------------------------------------------

static int32_t rnd_full()
{
    return (int32_t)(uint32_t)rng(); // any int32, -2^31 included
}

static std::vector<int32_t> make_logits(int V, int kind)
{
    std::vector<int32_t> x((size_t)V);
    const int32_t MAXL = 0x7fffffff;
    switch (kind) {
    case 0: // typical logits: +-12.0 in Q16
        for (auto &v : x)
            v = (int32_t)(rng() % (24 * 65536 + 1)) - 12 * 65536;
        break;
    case 1: // full int32 range
        for (auto &v : x)
            v = rnd_full();
        break;
    case 2: { // ties: few distinct values, the max repeated
        int32_t vals[4] = {(int32_t)(rng() % 200000) - 100000, 0, 0, 0};
        for (int k = 1; k < 4; k++)
            vals[k] = vals[0] - (int32_t)(rng() % 300000);
        for (auto &v : x)
            v = vals[rng() % 4];
        break;
    }
    case 3: { // all equal
        int32_t c = chance(30) ? (chance(50) ? MAXL : -MAXL) : rnd_full();
        for (auto &v : x)
            v = c;
        break;
    }
    case 4: // extremes
        for (auto &v : x) {
            int k = (int)(rng() % 5);
            v = k == 0 ? MAXL : k == 1 ? -MAXL : k == 2 ? INT32_MIN : k == 3 ? 0 : rnd_full();
        }
        break;
    case 6: { // around -(2^31 - 1) / log2(e): at inv_temp 1.0 some z saturate
              // at -(2^31 - 1) within 2^16 (or 12 * 2^16) of zmax (p of a
              // saturated z > 0)
        int32_t spread = chance(50) ? 45000 : 8 * 65536;
        for (auto &v : x)
            v = chance(20) ? (chance(50) ? -MAXL : INT32_MIN)
                           : -1488522236 + (int32_t)(rng() % (uint32_t)(2 * spread + 1)) - spread;
        break;
    }
    case 5: // one-hot (or one-cold) around a base
    default: {
        int32_t base = (int32_t)(rng() % 100000) - 50000;
        for (auto &v : x)
            v = base + (int32_t)(rng() % 3000);
        x[rng() % (uint64_t)V] = chance(50) ? base + 20 * 65536 : MAXL;
        break;
    }
    }
    return x;
}

static uint32_t make_inv_temp()
{
    static const uint32_t fixed[] = {0,       1,          300,        65536,     32768,
                                     131072,  655360,     0xffffffu,  0x1000000u, 0xffffffffu,
                                     6553,    0x80000000u};
    if (chance(25))
        return 0;
    if (chance(60))
        return fixed[rng() % (sizeof fixed / sizeof fixed[0])];
    return (uint32_t)(rng() % (8u << 16)) + 1; // 1/T up to 8
}

// ---- a sequence of vectors ------------------------------------------------------------

struct Vec {
    std::vector<int32_t> logits;
    uint32_t inv_temp;
    bool reseed;
    uint32_t seed;
};

// Samples `vecs` back to back on one instance; the C twin predicts every
// token. gap_pct / ready_pct: stall chances (timing: 0 / 100, then the
// latency is checked).
static void run(TB &tb, Io &io, int V, int share, std::vector<Vec> &vecs, uint32_t &state,
                int gap_pct, int ready_pct, bool timing, const char *what)
{
    lg_sampler_params p = {V, "lg_exp2", "x", share};
    size_t vi = 0, li = 0;
    int expect = -1;
    bool prev_stall = false;
    int prev_tok = 0;
    uint64_t last_logit_cycle = 0, drawn = 0, greedy = 0, max_lat = 0;
    uint64_t worst = (uint64_t)lg_sampler_latency(&p, 1, V - 1);
    uint64_t limit = tb.cycle + (uint64_t)vecs.size() * (worst + (uint64_t)V + 200) * 4 + 1000;
    while ((vi < vecs.size() || expect >= 0) && tb.cycle < limit) {
        uint32_t it = (uint32_t)rng(); // scrambled except with the first logit
        if (share) {
            // the mul_share form reads inv_temp from the first logit until
            // the token is taken: held over the whole vector
            if (expect >= 0)
                it = vecs[vi - 1].inv_temp;
            else if (vi < vecs.size())
                it = vecs[vi].inv_temp;
        }
        bool v = false;
        int32_t x = 0;
        if (vi < vecs.size() && expect < 0) {
            Vec &c = vecs[vi];
            if (li == 0 && c.reseed) {
                // the seed's four bytes before the vector's first logit,
                // least significant first, sometimes with idle cycles between
                // them (a write is not a load: only the four together set it)
                for (int b = 0; b < 4; b++) {
                    while (chance(gap_pct)) {
                        io.drive(it, false, (uint8_t)rng(), false, 0, true);
                        tb.settle();
                        tb.tick();
                    }
                    io.drive(it, true, (uint8_t)(c.seed >> (8 * b)), false, 0, true);
                    tb.settle();
                    tb.tick();
                }
                state = lg_sampler_seed(c.seed);
                c.reseed = false; // once
                continue;
            }
            if (!chance(gap_pct)) {
                v = true;
                x = c.logits[li];
                if (li == 0)
                    it = c.inv_temp;
            }
        }
        bool rdy = chance(ready_pct);
        io.drive(it, false, (uint8_t)rng(), v, x, rdy);
        tb.settle();
        bool sr = io.s_ready();
        if (expect >= 0)
            CHECK(!sr, "%s: s_logit_ready while a token is pending", what);
        // output side
        bool ov = io.valid();
        if (prev_stall) {
            CHECK(ov, "%s: m_tok_valid dropped while stalled", what);
            CHECK(io.tok() == prev_tok, "%s: token changed while stalled", what);
        }
        if (ov) {
            CHECK(expect >= 0, "%s: token without a vector", what);
            CHECK(io.tok() == expect, "%s: vector %zu (inv_temp %u): token %d, C twin %d", what,
                  vi - 1, vecs[vi - 1].inv_temp, io.tok(), expect);
            if (timing && expect >= 0 && !prev_stall) {
                uint64_t lat = tb.cycle - last_logit_cycle;
                int64_t want = lg_sampler_latency(&p, vecs[vi - 1].inv_temp, expect);
                CHECK((int64_t)lat == want, "%s: token %llu cycles after the last logit, "
                      "header says %lld (inv_temp %u, token %d)", what,
                      (unsigned long long)lat, (long long)want, vecs[vi - 1].inv_temp, expect);
                if (lat > max_lat)
                    max_lat = lat;
            }
            prev_tok = io.tok();
        }
        bool fire = ov && rdy;
        prev_stall = ov && !fire;
        if (fire)
            expect = -1;
        // input side
        if (v && sr) {
            if (++li == (size_t)V) {
                const Vec &c = vecs[vi++];
                li = 0;
                uint32_t before = state;
                expect = lg_ref_sample(c.logits.data(), V, c.inv_temp, &state, &luts);
                if (c.inv_temp == 0) {
                    CHECK(state == before, "C twin moved the state at temperature 0");
                    CHECK(expect == lg_ref_argmax(c.logits.data(), V), "argmax");
                    greedy++;
                } else {
                    drawn++;
                }
                last_logit_cycle = tb.cycle;
            }
        }
        tb.tick();
    }
    CHECK(vi == vecs.size() && expect < 0, "%s: timeout at vector %zu of %zu", what, vi,
          vecs.size());
    io.drive(0, false, 0, false, 0, false);
    std::printf("%s: %zu vectors (%llu greedy, %llu sampled)", what, vecs.size(),
                (unsigned long long)greedy, (unsigned long long)drawn);
    if (timing)
        std::printf(", latency checked, max %llu cycles", (unsigned long long)max_lat);
    std::printf("\n");
}

// ---- boundary vectors ----------------------------------------------------------------
//
// A token is robust to small errors in S or in a p_i unless u sits right at
// a cumulative sum. These vectors put it there: the bench computes the p_i
// and S (numerics.md 3.13), picks u = cum_k or cum_k - 1, an r with
// floor(r * S / 2^32) = u, and the seed whose first xorshift32 step gives r
// (the step is invertible). An error of one LSB in any p_j (j <= k), in S,
// in u, or a >= for > then changes the token.

static int64_t rshift_round(int64_t v, int s) { return lg_round_shift(v, s); }

static int64_t scaled(int32_t logit, uint32_t it)
{
    int64_t z = lg_sat32(rshift_round((int64_t)logit * it, 16));
    return lg_sat32(rshift_round(z * LG_LOG2E_Q24, 24));
}

// x ^= x << s undone: x = y ^ (y << s) ^ (y << 2s) ^ ...
static uint32_t undo_shl(uint32_t y, int s)
{
    uint32_t x = y;
    for (int k = s; k < 32; k += s)
        x ^= y << k;
    return x;
}

static uint32_t undo_shr(uint32_t y, int s)
{
    uint32_t x = y;
    for (int k = s; k < 32; k += s)
        x ^= y >> k;
    return x;
}

// The state whose next xorshift32 output is r.
static uint32_t xorshift_prev(uint32_t r) { return undo_shl(undo_shr(undo_shl(r, 5), 17), 13); }

// kind < 0: logits of a random kind; else of that kind, mostly at inv_temp 1.0
static bool boundary_vec(Vec &c, int V, int kind = -1)
{
    static const int kinds[4] = {0, 2, 3, 5};
    c.logits = make_logits(V, kind < 0 ? kinds[rng() % 4] : kind);
    if (kind >= 0 && chance(75))
        c.inv_temp = 65536;
    else
        do
            c.inv_temp = make_inv_temp();
        while (c.inv_temp == 0);
    uint32_t it = c.inv_temp > 0xffffffu ? 0xffffffu : c.inv_temp;
    int64_t zmax = scaled(c.logits[(size_t)lg_ref_argmax(c.logits.data(), V)], it);
    std::vector<uint64_t> cum((size_t)V);
    uint64_t S = 0;
    for (int i = 0; i < V; i++)
        cum[(size_t)i] = S += (uint64_t)lg_ref_exp2(&luts, scaled(c.logits[(size_t)i], it) - zmax);
    int k = (int)(rng() % (uint64_t)(V - 1));
    int side = (int)(rng() % 2);
    if (cum[(size_t)k] < 1 || cum[(size_t)k] >= S)
        return false;
    uint64_t u = cum[(size_t)k] - (uint64_t)side; // token k + 1 (side 0) or k (side 1)
    // r in [ceil(u 2^32 / S), ceil((u + 1) 2^32 / S) - 1]
    uint64_t lo = ((u << 32) + S - 1) / S, hi = (((u + 1) << 32) + S - 1) / S - 1;
    if (hi < lo || hi > 0xffffffffu)
        return false;
    uint32_t r = (uint32_t)(lo + rng() % (hi - lo + 1));
    if (r == 0 || (((unsigned __int128)r * S) >> 32) != u)
        return false;
    c.seed = xorshift_prev(r);
    c.reseed = true;
    if (c.seed == 0)
        return false;
    uint32_t st = lg_sampler_seed(c.seed);
    int want = 0; // first i with cum_i > u (p_i = 0 entries are skipped)
    while (cum[(size_t)want] <= u)
        want++;
    int got = lg_ref_sample(c.logits.data(), V, c.inv_temp, &st, &luts);
    CHECK(got == want, "boundary vector: C twin gives %d, construction %d", got, want);
    return true;
}

static std::vector<Vec> make_boundary(int V, int n)
{
    std::vector<Vec> v;
    while ((int)v.size() < n) {
        Vec c;
        if (boundary_vec(c, V))
            v.push_back(c);
    }
    return v;
}

// Boundary vectors near the negative saturation of z (kind 6), mostly at
// inv_temp 1.0: an error in p of a saturated z changes the token.
static std::vector<Vec> make_satvecs(int V, int n)
{
    std::vector<Vec> v;
    while ((int)v.size() < n) {
        Vec c;
        if (boundary_vec(c, V, 6))
            v.push_back(c);
    }
    return v;
}

static std::vector<Vec> make_vecs(int V, int n, uint32_t first_seed)
{
    std::vector<Vec> v;
    for (int i = 0; i < n; i++) {
        Vec c;
        c.logits = make_logits(V, (int)(rng() % 6));
        c.inv_temp = make_inv_temp();
        c.reseed = i == 0 || chance(1);
        c.seed = i == 0 ? first_seed : (chance(30) ? 0 : (uint32_t)rng());
        v.push_back(c);
    }
    return v;
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_sampler");
    rng.seed(tb.plusarg("seed", 1));
    int n = (int)tb.plusarg("n", 1500);
    lg_luts_build(&luts);
    Io_a a(tb.m);
    Io_b b(tb.m);
    Io_c c(tb.m);
    Io_d d(tb.m);
    Io_e e(tb.m);
    Io_f f(tb.m);
    Io *all[6] = {&a, &b, &c, &d, &e, &f};
    for (Io *io : all)
        io->drive(0, false, 0, false, 0, false);
    tb.reset(4);
    for (Io *io : all)
        CHECK(io->s_ready() && !io->valid(), "state after reset");

    // Each form at each vocabulary: name, vocab, mul_share, vectors with stalls.
    struct Inst {
        Io *io;
        const char *name;
        int V, share, n;
    } inst[6] = {{&a, "a(vocab 512)", 512, 0, n},
                 {&b, "b(vocab 5)", 5, 0, 4 * n},
                 {&c, "c(vocab 512, mul_share)", 512, 1, n},
                 {&d, "d(vocab 5, mul_share)", 5, 1, 4 * n},
                 {&e, "e(vocab 300, mul_share)", 300, 1, n},
                 {&f, "f(vocab 2, mul_share)", 2, 1, 4 * n}};
    char what[128];
    for (const Inst &u : inst) {
        uint32_t st = lg_sampler_seed(0);
        const int V = u.V;
        const bool small = V < 64;
        // reset state = seed 0: a sequence without a seed pulse
        std::vector<Vec> v0 = make_vecs(V, 20, 0);
        for (auto &x : v0) {
            x.reseed = false;
            if (x.inv_temp == 0)
                x.inv_temp = 65536;
        }
        snprintf(what, sizeof what, "%s from reset", u.name);
        run(tb, *u.io, V, u.share, v0, st, 0, 100, true, what);

        std::vector<Vec> vs = make_vecs(V, u.n, small ? 0 : 12345);
        snprintf(what, sizeof what, "%s with stalls", u.name);
        run(tb, *u.io, V, u.share, vs, st, small ? 30 : 25, small ? 50 : 60, false, what);
        std::vector<Vec> vt = make_vecs(V, small ? 500 : 200, 777);
        snprintf(what, sizeof what, "%s stall-free", u.name);
        run(tb, *u.io, V, u.share, vt, st, 0, 100, true, what);

        std::vector<Vec> bv = make_boundary(V, small ? 600 : 150);
        snprintf(what, sizeof what, "%s u on a cumulative sum", u.name);
        run(tb, *u.io, V, u.share, bv, st, 10, 80, false, what);

        std::vector<Vec> sv = make_satvecs(V, small ? 300 : 60);
        snprintf(what, sizeof what, "%s near z saturation", u.name);
        run(tb, *u.io, V, u.share, sv, st, 10, 80, false, what);
    }

    if (errors)
        std::printf("tb_sampler: %d errors\n", errors);
    return tb.finish(errors == 0);
}
