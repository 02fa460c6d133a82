// Bench for lg_actq: every mantissa and shift compared bit-exactly with the C
// twin lg_ref_actq, vectors back to back with random valid gaps on s_x and
// random backpressure on m_a. Vectors cover every shift 0..17 (magnitudes of
// every bit length, -2^31 included), all zeros, rounding up to 32768 (must
// clamp to 32767) and single large outliers. Without stalls it checks the
// header's latency: first output lg_actq_latency cycles after the last
// input, last output lg_actq_run_cycles after the first input.
//
// Built once per configuration with -DTB_COLS= (and -DTB_VL= for a model
// verilated with -GVL=: VL elements per beat, the last beat of a vector
// ragged, its padding lanes driven with noise) against the model verilated
// with --prefix Vdut. With -DTB_COLS2= (model verilated with -GCOLS2=) the
// vectors alternate between the two lengths at random (s_x_sel with each
// vector's first beat, noise on it otherwise), back to back. With
// -DTB_MUL_SHARE=1 the model is the lean form (tests/hdl/gen_actq_share.c)
// and the cycles checked are lg_actq_share_latency / _run_cycles (one
// output beat every 5 cycles).
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_units.h"
#include "llamagen/ref.h"
}

#include <cinttypes>
#include <random>
#include <string>
#include <vector>

#ifndef TB_COLS
#error "build with -DTB_COLS="
#endif

#ifndef TB_VL
#define TB_VL 1
#endif

static const lg_actq_params P = {TB_COLS};
#ifndef TB_MUL_SHARE
#define TB_MUL_SHARE 0
#endif
// The latency and run-cycle functions of the form under test, and the
// cycles between output beats.
static int32_t latency_of(const lg_actq_params *p)
{
    return TB_MUL_SHARE ? lg_actq_share_latency(p) : lg_actq_latency(p);
}
static int64_t run_cycles_of(const lg_actq_params *p)
{
    return TB_MUL_SHARE ? lg_actq_share_run_cycles(p) : lg_actq_run_cycles(p);
}
static const long OUT_PERIOD = TB_MUL_SHARE ? 5 : 1;
// elements per beat
static const int VL = TB_VL;
#ifdef TB_COLS2
static const int COLS2 = TB_COLS2;
#else
static const int COLS2 = 0;
#endif

// The model's wide ports (VerilatedWide for VL * 16 > 64 bits): element i.
template <typename T> static uint32_t get_lane(const T &v, int i, int w)
{
    if constexpr (sizeof(T) <= 8) {
        return (uint32_t)(((uint64_t)v >> (i * w)) & ((w == 32) ? 0xffffffffull : 0xffffull));
    } else {
        int bit = i * w;
        uint32_t lo = v[bit / 32] >> (bit % 32);
        return w == 32 ? lo : (lo & 0xffffu);
    }
}
template <typename T> static void set_lane(T &v, int i, uint32_t x)
{
    if constexpr (sizeof(T) <= 8) {
        uint64_t mask = 0xffffffffull << (i * 32);
        v = (T)(((uint64_t)v & ~mask) | ((uint64_t)x << (i * 32)));
    } else {
        v[i] = x;
    }
}

typedef TESTB<Vdut> TB;

struct Vec {
    std::string name;
    std::vector<int32_t> x; // (cols): COLS, or COLS2 when sel
    int sel;                // s_x_sel with the first beat
    int in_idle_pct;        // chance of a gap before an input
    int out_stall_pct;      // chance of m_a_ready low in a cycle
};

// Random values of at most `bits` magnitude bits (0..31), symmetric.
static Vec random_vec(std::mt19937_64 &rng, int bits, int in_idle, int out_stall)
{
    Vec v;
    v.name = "random " + std::to_string(bits) + " bits";
    v.in_idle_pct = in_idle;
    v.out_stall_pct = out_stall;
    v.sel = COLS2 > 0 && (rng() & 1);
    const int cols = v.sel ? COLS2 : P.cols;
    if (v.sel)
        v.name += " (cols2)";
    int64_t lim = bits >= 31 ? (int64_t)LG_SAT32 : ((int64_t)1 << bits) - 1;
    std::uniform_int_distribution<int64_t> d(-lim, lim);
    for (int i = 0; i < cols; i++)
        v.x.push_back((int32_t)d(rng));
    // Make sure the top bit length is reached.
    v.x[(size_t)(rng() % (uint64_t)cols)] = (int32_t)((rng() & 1) ? lim : -lim);
    return v;
}

static int cols_of(const Vec &v) { return (int)v.x.size(); }
static int nbt_of(const Vec &v) { return (cols_of(v) + VL - 1) / VL; }

static int run_vectors(TB &tb, std::mt19937_64 &rng, const std::vector<Vec> &vecs)
{
    Vdut *m = tb.m;
    int errors = 0;
    std::uniform_int_distribution<int> pct(0, 99);
    std::uniform_int_distribution<uint32_t> noise;

    // Expected mantissas and shift of each vector.
    std::vector<std::vector<int16_t>> exp_m(vecs.size());
    std::vector<int> exp_s(vecs.size());
    for (size_t k = 0; k < vecs.size(); k++) {
        exp_m[k].resize(vecs[k].x.size());
        exp_s[k] = lg_ref_actq(exp_m[k].data(), vecs[k].x.data(), cols_of(vecs[k]));
    }
    auto fail = [&](const char *what, long a, long b) {
        if (errors++ < 10)
            std::printf("  %s: got %ld expected %ld (cycle %" PRIu64 ")\n", what, a, b,
                        tb.cycle);
    };

    // in / out count beats: nbt_of(v) per vector; (kin, bin) and (kout,
    // bout) the vector and beat of the next input and output
    size_t in = 0, out = 0, total = 0, kin = 0, kout = 0;
    int bin = 0, bout = 0;
    for (const Vec &v : vecs)
        total += (size_t)nbt_of(v);
    bool have = false;
    bool prev_stalled = false;
    uint32_t prev = 0;
    std::vector<uint64_t> t_first_in(vecs.size()), t_last_in(vecs.size()),
        t_first_out(vecs.size()), t_last_out(vecs.size());
    const uint64_t limit = tb.cycle + 1000 + (uint64_t)total * 100;
    while (out < total && tb.cycle < limit) {
        if (!have && in < total && pct(rng) >= vecs[kin].in_idle_pct) {
            const int cols = cols_of(vecs[kin]);
            for (int l = 0; l < VL; l++) {
                int e = bin * VL + l;
                // lanes past cols: noise that must be ignored
                set_lane(m->s_x_data, l,
                         e < cols ? (uint32_t)vecs[kin].x[(size_t)e] : noise(rng));
            }
            have = true;
        }
        // the length select counts with a vector's first beat only
        m->s_x_sel = (have && bin == 0) ? vecs[kin].sel : (int)(noise(rng) & 1);
        if (!have)
            for (int l = 0; l < VL; l++)
                set_lane(m->s_x_data, l, noise(rng)); // not valid: must be ignored
        m->s_x_valid = have;
        m->m_a_ready = pct(rng) >= vecs[kout < vecs.size() ? kout : 0].out_stall_pct;
        tb.settle();

        uint32_t now = (uint32_t)m->m_a_shift << 16 | (uint32_t)m->m_a_last << 21;
        for (int l = 0; l < VL; l++)
            now = now * 31u + get_lane(m->m_a_data, l, 16);
        if (prev_stalled && (!m->m_a_valid || now != prev))
            fail("m_a changed while stalled", (long)now, (long)prev);
        prev_stalled = m->m_a_valid && !m->m_a_ready;
        prev = now;

        if (m->m_a_valid && m->m_a_ready) {
            const int i = bout, cols = cols_of(vecs[kout]), nbt = nbt_of(vecs[kout]);
            for (int l = 0; l < VL && i * VL + l < cols; l++) {
                size_t e = (size_t)(i * VL + l);
                int16_t got = (int16_t)get_lane(m->m_a_data, l, 16);
                if (got != exp_m[kout][e]) {
                    if (errors < 10)
                        std::printf("  %s: element %d x = %d\n", vecs[kout].name.c_str(),
                                    i * VL + l, vecs[kout].x[e]);
                    fail("m_a_data", got, exp_m[kout][e]);
                }
            }
            if ((int)m->m_a_shift != exp_s[kout])
                fail("m_a_shift", m->m_a_shift, exp_s[kout]);
            if (m->m_a_last != (i == nbt - 1))
                fail("m_a_last", m->m_a_last, i == nbt - 1);
            if (i == 0)
                t_first_out[kout] = tb.cycle;
            t_last_out[kout] = tb.cycle;
            out++;
            if (++bout == nbt) {
                bout = 0;
                kout++;
            }
        }
        if (m->s_x_valid && m->s_x_ready) {
            if (bin == 0)
                t_first_in[kin] = tb.cycle;
            t_last_in[kin] = tb.cycle;
            have = false;
            in++;
            if (++bin == nbt_of(vecs[kin])) {
                bin = 0;
                kin++;
            }
        }
        tb.tick();
    }
    m->s_x_valid = 0;
    if (out != total)
        fail("outputs", (long)out, (long)total);
    for (int i = 0; i < 4; i++) {
        tb.tick();
        tb.settle();
        if (m->m_a_valid)
            fail("output after the last vector", 1, 0);
    }

    for (size_t k = 0; k < vecs.size(); k++) {
        const Vec &v = vecs[k];
        bool timed = v.in_idle_pct == 0 && v.out_stall_pct == 0 && errors == 0;
        long lat = (long)(t_first_out[k] - t_last_in[k]);
        long run = (long)(t_last_out[k] - t_first_in[k]);
        if (timed && lat != latency_of(&P))
            fail("latency last input to first output", lat, latency_of(&P));
        // the header: NBT - 1 input cycles, the latency, then one output
        // beat every OUT_PERIOD cycles (lg_actq_run_cycles or
        // lg_actq_share_run_cycles at VL 1)
        const lg_actq_params pk = {cols_of(v)};
        long want = VL == 1 ? (long)run_cycles_of(&pk)
                            : (nbt_of(v) - 1) * (1 + OUT_PERIOD) + latency_of(&P);
        if (timed && run != want)
            fail("first input to last output", run, want);
        std::printf("  %-24s s %2d%s\n", v.name.c_str(), exp_s[k],
                    timed ? (" (no stalls: latency " + std::to_string(lat) + ", run " +
                             std::to_string(run) + " cycles)")
                                .c_str()
                          : "");
    }
    return errors;
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_actq");
    std::mt19937_64 rng(tb.plusarg("seed", 1));
    std::printf("tb_actq: cols %d (cols2 %d), %d per beat%s\n", P.cols, COLS2, VL,
                TB_MUL_SHARE ? ", lean form" : "");

    Vdut *m = tb.m;
    m->s_x_valid = 0;
    m->m_a_ready = 0;
    tb.reset(4);

    std::vector<Vec> vecs;
    vecs.push_back(random_vec(rng, 20, 0, 0)); // timing, s = 5
    vecs.push_back(random_vec(rng, 31, 0, 0)); // timing, s = 16, back to back
    // Every shift 0..17 with stalls: bit lengths 0..31, then -2^31.
    for (int bits = 0; bits <= 31; bits++)
        vecs.push_back(random_vec(rng, bits, 25, 35));
    Vec v = random_vec(rng, 31, 10, 60);
    v.name = "has -2^31";
    v.x[v.x.size() / 2] = INT32_MIN;
    vecs.push_back(v);
    // Rounding reaches 32768 and must clamp: x = 32767.5 * 2^s (both signs).
    for (int s = 1; s <= 16; s += 5) {
        Vec r = random_vec(rng, 14 + s, 5, 20);
        r.name = "round to 32768, s " + std::to_string(s);
        int64_t big = (((int64_t)32767 << s) + ((int64_t)1 << (s - 1)));
        r.x[0] = (int32_t)big;
        r.x[r.x.size() - 1] = (int32_t)-big;
        vecs.push_back(r);
    }
    // One outlier among tiny values, and all zeros.
    Vec o = random_vec(rng, 3, 0, 50);
    o.name = "outlier";
    o.x[o.x.size() / 3] = -(int32_t)LG_SAT32;
    vecs.push_back(o);
    Vec z = random_vec(rng, 0, 0, 0);
    z.name = "all zero";
    vecs.push_back(z);
    vecs.push_back(random_vec(rng, 17, 70, 70));

    int errors = run_vectors(tb, rng, vecs);
    return tb.finish(errors == 0);
}
