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
// with --prefix Vdut. Plusargs: +seed=N (default 1), +trace[=FILE].
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
// elements per beat, beats per vector
static const int VL = TB_VL;
static const int NBT = (TB_COLS + TB_VL - 1) / TB_VL;

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
    std::vector<int32_t> x; // (cols)
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
    int64_t lim = bits >= 31 ? (int64_t)LG_SAT32 : ((int64_t)1 << bits) - 1;
    std::uniform_int_distribution<int64_t> d(-lim, lim);
    for (int i = 0; i < P.cols; i++)
        v.x.push_back((int32_t)d(rng));
    // Make sure the top bit length is reached.
    v.x[(size_t)(rng() % (uint64_t)P.cols)] = (int32_t)((rng() & 1) ? lim : -lim);
    return v;
}

static int run_vectors(TB &tb, std::mt19937_64 &rng, const std::vector<Vec> &vecs)
{
    Vdut *m = tb.m;
    int errors = 0;
    std::uniform_int_distribution<int> pct(0, 99);
    std::uniform_int_distribution<uint32_t> noise;

    // Expected streams, all vectors back to back.
    std::vector<int16_t> exp_m;
    std::vector<int> exp_s, exp_vec;
    for (size_t k = 0; k < vecs.size(); k++) {
        std::vector<int16_t> mm((size_t)P.cols);
        int s = lg_ref_actq(mm.data(), vecs[k].x.data(), P.cols);
        for (int16_t v : mm) {
            exp_m.push_back(v);
            exp_s.push_back(s);
            exp_vec.push_back((int)k);
        }
    }
    auto fail = [&](const char *what, long a, long b) {
        if (errors++ < 10)
            std::printf("  %s: got %ld expected %ld (cycle %" PRIu64 ")\n", what, a, b,
                        tb.cycle);
    };

    // in / out count beats: NBT per vector
    size_t in = 0, out = 0, total = vecs.size() * (size_t)NBT;
    bool have = false;
    bool prev_stalled = false;
    uint32_t prev = 0;
    std::vector<uint64_t> t_first_in(vecs.size()), t_last_in(vecs.size()),
        t_first_out(vecs.size()), t_last_out(vecs.size());
    const uint64_t limit = tb.cycle + 1000 + (uint64_t)total * 100;
    while (out < total && tb.cycle < limit) {
        size_t kin = in / (size_t)NBT;
        if (!have && in < total && pct(rng) >= vecs[kin].in_idle_pct) {
            int b = (int)(in % (size_t)NBT);
            for (int l = 0; l < VL; l++) {
                int e = b * VL + l;
                // lanes past cols: noise that must be ignored
                set_lane(m->s_x_data, l,
                         e < P.cols ? (uint32_t)vecs[kin].x[(size_t)e] : noise(rng));
            }
            have = true;
        }
        if (!have)
            for (int l = 0; l < VL; l++)
                set_lane(m->s_x_data, l, noise(rng)); // not valid: must be ignored
        m->s_x_valid = have;
        size_t kout = out / (size_t)NBT;
        m->m_a_ready = pct(rng) >= vecs[kout].out_stall_pct;
        tb.settle();

        uint32_t now = (uint32_t)m->m_a_shift << 16 | (uint32_t)m->m_a_last << 21;
        for (int l = 0; l < VL; l++)
            now = now * 31u + get_lane(m->m_a_data, l, 16);
        if (prev_stalled && (!m->m_a_valid || now != prev))
            fail("m_a changed while stalled", (long)now, (long)prev);
        prev_stalled = m->m_a_valid && !m->m_a_ready;
        prev = now;

        if (m->m_a_valid && m->m_a_ready) {
            int i = (int)(out % (size_t)NBT);
            for (int l = 0; l < VL && i * VL + l < P.cols; l++) {
                size_t e = kout * (size_t)P.cols + (size_t)(i * VL + l);
                int16_t got = (int16_t)get_lane(m->m_a_data, l, 16);
                if (got != exp_m[e]) {
                    if (errors < 10)
                        std::printf("  %s: element %d x = %d\n", vecs[kout].name.c_str(),
                                    i * VL + l, vecs[kout].x[(size_t)(i * VL + l)]);
                    fail("m_a_data", got, exp_m[e]);
                }
            }
            if ((int)m->m_a_shift != exp_s[kout * (size_t)P.cols])
                fail("m_a_shift", m->m_a_shift, exp_s[kout * (size_t)P.cols]);
            if (m->m_a_last != (i == NBT - 1))
                fail("m_a_last", m->m_a_last, i == NBT - 1);
            if (i == 0)
                t_first_out[kout] = tb.cycle;
            t_last_out[kout] = tb.cycle;
            out++;
        }
        if (m->s_x_valid && m->s_x_ready) {
            int i = (int)(in % (size_t)NBT);
            if (i == 0)
                t_first_in[kin] = tb.cycle;
            t_last_in[kin] = tb.cycle;
            have = false;
            in++;
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
        if (timed && lat != lg_actq_latency(&P))
            fail("latency last input to first output", lat, lg_actq_latency(&P));
        // the header: 2 * NBT + latency - 2 (lg_actq_run_cycles at VL 1)
        long want = VL == 1 ? (long)lg_actq_run_cycles(&P) : 2L * NBT + lg_actq_latency(&P) - 2;
        if (timed && run != want)
            fail("first input to last output", run, want);
        std::printf("  %-24s s %2d%s\n", v.name.c_str(), exp_s[k * (size_t)P.cols],
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
    std::printf("tb_actq: cols %d, %d per beat\n", P.cols, VL);

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
    v.x[(size_t)P.cols / 2] = INT32_MIN;
    vecs.push_back(v);
    // Rounding reaches 32768 and must clamp: x = 32767.5 * 2^s (both signs).
    for (int s = 1; s <= 16; s += 5) {
        Vec r = random_vec(rng, 14 + s, 5, 20);
        r.name = "round to 32768, s " + std::to_string(s);
        int64_t big = (((int64_t)32767 << s) + ((int64_t)1 << (s - 1)));
        r.x[0] = (int32_t)big;
        r.x[(size_t)P.cols - 1] = (int32_t)-big;
        vecs.push_back(r);
    }
    // One outlier among tiny values, and all zeros.
    Vec o = random_vec(rng, 3, 0, 50);
    o.name = "outlier";
    o.x[(size_t)P.cols / 3] = -(int32_t)LG_SAT32;
    vecs.push_back(o);
    Vec z = random_vec(rng, 0, 0, 0);
    z.name = "all zero";
    vecs.push_back(z);
    vecs.push_back(random_vec(rng, 17, 70, 70));

    int errors = run_vectors(tb, rng, vecs);
    return tb.finish(errors == 0);
}
