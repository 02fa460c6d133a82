// tb_lut: lg_exp2, lg_sigmoid, lg_sincos and lg_rsqrt (lut_std) against
// their C twins lg_ref_exp2 / lg_ref_sigmoid / lg_ref_sincos / lg_ref_rsqrt.
//
// The four units run side by side in tb_lut_top (one ce). Each input stream
// sweeps its unit's range; s_valid and ce are randomized. A per-unit model
// pipeline (advanced on every edge with ce = 1) holds the expected
// (valid, value) pairs: after each edge m_valid must equal the model's tail
// and, when valid, every output bit must match, which checks the latency the
// module headers promise (3 cycles; rsqrt 6) as well as the values.
//   +seed=N  stall pattern seed      +trace  waveform (if verilated with --trace)
#include "Vdut.h" // tb_lut_top (verilated with --prefix Vdut)
#include "testb.h"

extern "C" {
#include "llamagen/ref.h"
}

#include <cstdio>
#include <deque>
#include <vector>

static const int LAT_LUT = 3;   // exp2, sigmoid, sincos
static const int LAT_RSQRT = 6; // rsqrt

static uint64_t rng_state;
static uint64_t rnd64()
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static bool chance(int pct) { return (int)(rnd64() % 100) < pct; }

// Expected output of one input.
struct Exp {
    int64_t a, b; // y / sin / y, and - / cos / k
};

// Fixed-latency model of one unit: a shift register advanced on ce edges.
struct Unit {
    const char *name;
    int lat;
    std::vector<uint64_t> in; // stimulus
    size_t next = 0;
    std::deque<std::pair<bool, Exp>> pipe; // (lat) oldest at the front
    Exp cur{};                             // expected of the input driven this cycle
    bool cur_valid = false;
    uint64_t checked = 0, errors = 0;

    void init() { pipe.assign(lat, {false, Exp{}}); }
    bool done() const { return next >= in.size(); }
};

// ---- stimuli ------------------------------------------------------------------

static std::vector<uint64_t> exp2_inputs()
{
    std::vector<uint64_t> v;
    for (int64_t x = -20 * 65536; x <= 0; x += 7) // stride 7: every fraction residue
        v.push_back((uint64_t)x);
    for (int ip = -20; ip <= 1; ip++)
        for (int d = -2; d <= 2; d++)
            v.push_back((uint64_t)((int64_t)ip * 65536 + d));
    const int64_t edge[] = {0, 1, -1, 65535, 65536, INT64_MAX, INT64_MIN, INT64_MIN + 1,
                            -((int64_t)1 << 40), -((int64_t)1 << 31), (int64_t)1 << 40,
                            -17 * 65536 - 1, -18 * 65536, -18 * 65536 + 1, -63 * 65536};
    for (int64_t x : edge)
        v.push_back((uint64_t)x);
    for (int i = 0; i < 2000; i++)
        v.push_back(rnd64() | (1ull << 63)); // random negatives of any size
    return v;
}

static std::vector<uint64_t> sigmoid_inputs()
{
    std::vector<uint64_t> v;
    for (int64_t x = -20 * 65536; x <= 20 * 65536; x += 13)
        v.push_back((uint32_t)(int32_t)x);
    const int64_t edge[] = {0, 1, -1, 0x7fffffff, -0x7fffffff, INT32_MIN, (16 << 16) - 1,
                            16 << 16, -(16 << 16), -(16 << 16) + 1, 2047, 2048, -2048, -2049};
    for (int64_t x : edge)
        v.push_back((uint32_t)(int32_t)x);
    for (int i = 0; i < 2000; i++)
        v.push_back((uint32_t)rnd64());
    return v;
}

static std::vector<uint64_t> sincos_inputs()
{
    std::vector<uint64_t> v;
    const uint32_t stride = 0x9e3779b1u; // odd: coprime with 2^32
    uint32_t p = 0;
    for (int i = 0; i < 200000; i++, p += stride)
        v.push_back(p);
    for (uint32_t q = 0; q < 4; q++)
        for (int d = -3; d <= 3; d++) {
            v.push_back((q << 30) + (uint32_t)d);
            v.push_back((q << 30) + ((uint32_t)d << 22));       // table knots
            v.push_back((q << 30) + (255u << 22) + (uint32_t)d); // last interval
        }
    for (uint32_t k = 0; k < 1024; k++) // every knot of every quadrant
        v.push_back(k << 22);
    return v;
}

static std::vector<uint64_t> rsqrt_inputs()
{
    std::vector<uint64_t> v = {0, 1, 2, 3, 4, 5, UINT64_MAX, UINT64_MAX - 1};
    for (int p = 0; p < 64; p++)
        for (int d = -2; d <= 2; d++)
            v.push_back((1ull << p) + (uint64_t)(int64_t)d);
    for (int e = 0; e <= 54; e += 2) // both ends of every seed interval, at every k
        for (uint64_t i = 64; i <= 256; i++)
            for (int d = -1; d <= 1; d++)
                v.push_back((i << e) + (uint64_t)(int64_t)d);
    for (int i = 0; i < 60000; i++)
        v.push_back(rnd64() >> (14 + rnd64() % 50)); // up to 2^50, every magnitude
    for (int i = 0; i < 2000; i++)
        v.push_back(rnd64());
    return v;
}

// ---- bench ----------------------------------------------------------------------

int main(int argc, char **argv)
{
    TESTB<Vdut> tb(argc, argv, "tb_lut");
    rng_state = tb.plusarg("seed", 1);
    lg_luts t;
    lg_luts_build(&t);

    Unit ue{"exp2", LAT_LUT}, ug{"sigmoid", LAT_LUT}, uc{"sincos", LAT_LUT},
        ur{"rsqrt", LAT_RSQRT};
    ue.in = exp2_inputs();
    ug.in = sigmoid_inputs();
    uc.in = sincos_inputs();
    ur.in = rsqrt_inputs();
    Unit *units[4] = {&ue, &ug, &uc, &ur};
    for (Unit *u : units)
        u->init();

    tb.reset(3);
    auto *m = tb.m;
    uint64_t ce_edges = 0;
    // Phase 1 (first 20000 cycles): ce = 1 and inputs always valid, so the
    // model checks the plain latency; then ce and s_valid are randomized.
    for (uint64_t cyc = 0;; cyc++) {
        bool all_done = true;
        for (Unit *u : units)
            all_done &= u->done();
        if (all_done && cyc > 0) {
            bool drained = true;
            for (Unit *u : units)
                for (auto &e : u->pipe)
                    drained &= !e.first;
            if (drained)
                break;
        }
        bool stalls = cyc >= 20000;
        bool ce = !stalls || chance(85);
        m->ce = ce;
        for (Unit *u : units) {
            u->cur_valid = !u->done() && (!stalls || chance(80));
            uint64_t x = u->cur_valid ? u->in[u->next] : rnd64(); // junk when invalid
            if (u == &ue) {
                m->e_valid = u->cur_valid;
                m->e_x = x;
                if (u->cur_valid)
                    u->cur.a = lg_ref_exp2(&t, (int64_t)x);
            } else if (u == &ug) {
                m->g_valid = u->cur_valid;
                m->g_x = (uint32_t)x;
                if (u->cur_valid)
                    u->cur.a = lg_ref_sigmoid(&t, (int32_t)(uint32_t)x);
            } else if (u == &uc) {
                m->c_valid = u->cur_valid;
                m->c_phase = (uint32_t)x;
                if (u->cur_valid) {
                    int32_t s, c;
                    lg_ref_sincos(&t, (uint32_t)x, &s, &c);
                    u->cur.a = s;
                    u->cur.b = c;
                }
            } else {
                m->r_valid = u->cur_valid;
                m->r_s = x;
                if (u->cur_valid) {
                    int k;
                    u->cur.a = lg_ref_rsqrt(&t, x, &k);
                    u->cur.b = k;
                }
            }
        }
        tb.settle();
        tb.tick();
        if (ce) {
            ce_edges++;
            for (Unit *u : units) {
                u->pipe.pop_front();
                u->pipe.push_back({u->cur_valid, u->cur});
                if (u->cur_valid)
                    u->next++;
            }
        }
        // Outputs after the edge against the model's oldest entry.
        for (Unit *u : units) {
            const auto &want = u->pipe.front();
            bool got_valid;
            int64_t ga = 0, gb = 0;
            if (u == &ue) {
                got_valid = m->e_m_valid;
                ga = m->e_m_y;
            } else if (u == &ug) {
                got_valid = m->g_m_valid;
                ga = m->g_m_y;
            } else if (u == &uc) {
                got_valid = m->c_m_valid;
                ga = (int32_t)(m->c_m_sin << 14) >> 14; // 18-bit signed
                gb = (int32_t)(m->c_m_cos << 14) >> 14;
            } else {
                got_valid = m->r_m_valid;
                ga = m->r_m_y;
                gb = m->r_m_k;
            }
            bool bad = got_valid != want.first;
            if (!bad && want.first) {
                u->checked += ce; // a ce = 0 edge re-checks the held result
                bad = ga != want.second.a || (u != &ue && u != &ug && gb != want.second.b);
            }
            if (bad && u->errors++ < 10)
                std::printf("%s: cycle %llu: got valid %d (%lld, %lld), want valid %d (%lld, "
                            "%lld)\n",
                            u->name, (unsigned long long)tb.cycle, got_valid, (long long)ga,
                            (long long)gb, want.first, (long long)want.second.a,
                            (long long)want.second.b);
        }
    }
    bool ok = true;
    for (Unit *u : units) {
        std::printf("%-8s %7llu of %zu results checked, %llu mismatches (latency %d)\n",
                    u->name, (unsigned long long)u->checked, u->in.size(),
                    (unsigned long long)u->errors, u->lat);
        ok &= u->errors == 0 && u->checked == u->in.size();
    }
    return tb.finish(ok);
}
