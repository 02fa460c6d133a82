// tb_rope: lg_rope_h8 (rope_260k: head_size 8, theta 10000) as q (8 heads) and
// k (4 heads), and lg_rope_h128 (rope_h128: head_size 128, theta 500000,
// 4 heads) against the C twin lg_ref_rope; the mul_share forms (one shared
// 16x16 multiplier) lg_rope_h8_share (12 heads: q and k in one vector, as the
// decoder uses it) and lg_rope_h128_share (3 heads).
//
// The phase increments come from each config's bench_data.txt (written by
// gen_lut_units with the RTL). Positions cover 0, 1, the 260k context end,
// 2^31, 2^32 - 1 and random values; elements cover typical activations and
// +-(2^31 - 1) (saturation). The first two vectors of each instance run at
// full rate and every element must come out exactly at the promised latency
// (element 2j 7 cycles after the handshake of element 2j+1, element 2j+1
// one cycle later; mul_share: 39 and 63 cycles, which with s_ready also
// checks the 64-cycle pair period); the rest randomize s_valid gaps and
// m_ready backpressure.
//   +seed=N  stimulus seed      +trace  waveform (if verilated with --trace)
#include "Vdut.h" // tb_rope_top (verilated with --prefix Vdut)
#include "testb.h"

extern "C" {
#include "llamagen/emit_units2.h" // LG_ROPE_SHARE_Y0 / Y1
#include "llamagen/ref.h"
}

#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#ifndef LG_HDL_ROOT
#error "LG_HDL_ROOT (the generated bench root, build/hdl) must be defined"
#endif


static uint64_t rng_state;
static uint64_t rnd64()
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static bool chance(int pct) { return (int)(rnd64() % 100) < pct; }

// ---- bench_data.txt: "key count" then count integers -------------------------

static bool read_key(FILE *f, const char *key, std::vector<int64_t> &out)
{
    char k[64];
    long n;
    if (std::fscanf(f, "%63s %ld", k, &n) != 2 || std::strcmp(k, key) != 0 || n < 0)
        return false;
    out.resize((size_t)n);
    for (long i = 0; i < n; i++)
        if (std::fscanf(f, "%lld", (long long *)&out[(size_t)i]) != 1)
            return false;
    return true;
}

static bool load(std::vector<uint32_t> &inc, int &head_size, const char *cfg)
{
    std::string path = std::string(LG_HDL_ROOT) + "/" + cfg + "/bench_data.txt";
    FILE *f = std::fopen(path.c_str(), "r");
    std::vector<int64_t> hs, v;
    bool ok = f && read_key(f, "head_size", hs) && hs.size() == 1 && read_key(f, "inc", v) &&
              (int64_t)v.size() == hs[0] / 2;
    if (f)
        std::fclose(f);
    if (!ok) {
        std::printf("tb_rope: cannot read %s\n", path.c_str());
        return false;
    }
    head_size = (int)hs[0];
    inc.assign(v.begin(), v.end());
    return true;
}

// ---- one instance ------------------------------------------------------------------

struct RopePort {
    CData *s_valid, *s_ready;
    IData *s_data, *s_pos;
    CData *m_valid, *m_ready, *m_last;
    IData *m_data;
};

struct RopeBench {
    const char *name;
    int n_heads, head_size;
    std::vector<uint32_t> inc;
    RopePort p;
    lg_luts *t;
    int full_rate, nvec;
    int lat0 = 7, lat1 = 8; // x[2j+1] handshake cycle -> y[2j], y[2j+1] valid (cycles)

    struct Vec {
        std::vector<int32_t> x, want;
        uint32_t pos;
    };
    std::deque<Vec> in_q, out_q;
    size_t in_pos = 0, out_pos = 0;
    int sent = 0, received = 0;
    bool holding = false;
    // the lean form (lg_rope_share) reads s_pos live: hold the vector's pos
    // from its first element until its last output and start no next vector
    // meanwhile (as the decoder's position register does)
    bool live_pos = false;
    uint32_t cur_pos = 0;
    bool s_fire = false, m_fire = false, m_last_seen = false;
    uint32_t m_data_seen = 0;
    std::deque<uint64_t> due; // full rate: cycle each pending output must appear
    uint64_t errors = 0, checked = 0, timed = 0, sats = 0;

    int n() const { return n_heads * head_size; }

    void setup()
    {
        // 2^30 and 3 * 2^30: phases on a quadrant boundary (r = 0) for odd INC[j]
        const uint32_t fixed_pos[] = {0, 1, 511, 0x80000000u, 0xffffffffu, 2, 4095,
                                      0x40000000u, 0xc0000000u};
        const int n_fixed = (int)(sizeof fixed_pos / sizeof fixed_pos[0]);
        for (int v = 0; v < nvec; v++) {
            Vec vec;
            vec.pos = v < n_fixed ? fixed_pos[v] : (chance(50) ? (uint32_t)(rnd64() % 8192)
                                                               : (uint32_t)rnd64());
            vec.x.resize(n());
            int kind = v % 4;
            for (int i = 0; i < n(); i++) {
                int64_t r = (int64_t)(rnd64() >> 32) - (1ll << 31);
                if (kind == 0) // typical q/k: a few units in Q16
                    r >>= 11;
                else if (kind == 1) // wide range
                    r >>= rnd64() % 31;
                else if (kind == 2) // extremes: rotations saturate (|x| = 2^31 too)
                    r = chance(50) ? 0x7fffffff : chance(50) ? -0x7fffffff : INT32_MIN;
                vec.x[i] = lg_sat32(r);
            }
            vec.want = vec.x;
            lg_ref_rope(vec.want.data(), n_heads, head_size, vec.pos, inc.data(), t);
            for (int i = 0; i < n(); i++)
                sats += vec.want[i] == 0x7fffffff || vec.want[i] == -0x7fffffff;
            in_q.push_back(vec);
            out_q.push_back(vec);
        }
    }

    bool done() const { return out_q.empty(); }

    void drive()
    {
        bool full = sent < full_rate;
        bool busy = live_pos && (received < sent || in_pos > 0); // a vector in flight
        bool wait = live_pos && in_pos == 0 && received < sent;  // the previous one's outputs
        if (!in_q.empty() && !wait && (holding || full || chance(75))) {
            holding = true;
            *p.s_valid = 1;
            *p.s_data = (uint32_t)in_q.front().x[in_pos];
            *p.s_pos = in_pos == 0 ? in_q.front().pos : (uint32_t)rnd64();
        } else {
            *p.s_valid = 0;
            *p.s_data = (uint32_t)rnd64();
            *p.s_pos = (uint32_t)rnd64();
        }
        if (busy && !(in_pos == 0 && *p.s_valid))
            *p.s_pos = cur_pos;
        // Backpressure only once the full-rate vectors are out.
        *p.m_ready = received < full_rate || chance(75);
    }

    void sample()
    {
        s_fire = *p.s_valid && *p.s_ready;
        m_fire = *p.m_valid && *p.m_ready;
        m_data_seen = *p.m_data;
        m_last_seen = *p.m_last;
    }

    void after_edge(uint64_t cycle)
    {
        if (m_fire) {
            Vec &v = out_q.front();
            int32_t want = v.want[out_pos];
            bool last = out_pos + 1 == (size_t)n();
            checked++;
            if (((int32_t)m_data_seen != want || m_last_seen != last) && errors++ < 10)
                std::printf("%s: vector %d (pos %u) element %zu: got %d%s, want %d%s\n", name,
                            received, v.pos, out_pos, (int32_t)m_data_seen,
                            m_last_seen ? " last" : "", want, last ? " last" : "");
            if (received < full_rate) { // the cycle it was due in
                uint64_t at = cycle - 1;
                if (due.empty() || due.front() != at) {
                    if (errors++ < 10)
                        std::printf("%s: element %zu of vector %d out in cycle %llu, due %lld\n",
                                    name, out_pos, received, (unsigned long long)at,
                                    due.empty() ? -1ll : (long long)due.front());
                } else {
                    timed++;
                }
                if (!due.empty())
                    due.pop_front();
            }
            if (last) {
                out_pos = 0;
                out_q.pop_front();
                received++;
            } else {
                out_pos++;
            }
        }
        if (s_fire) {
            if (sent < full_rate && in_pos % 2 == 1) {
                // handshake in cycle `cycle - 1`: y[2j] in cycle +lat0, y[2j+1] +lat1
                due.push_back(cycle - 1 + lat0);
                due.push_back(cycle - 1 + lat1);
            }
            holding = false;
            if (in_pos == 0)
                cur_pos = in_q.front().pos;
            if (++in_pos == (size_t)n()) {
                in_pos = 0;
                in_q.pop_front();
                sent++;
            }
        }
    }
};

int main(int argc, char **argv)
{
    TESTB<Vdut> tb(argc, argv, "tb_rope");
    rng_state = tb.plusarg("seed", 1);
    lg_luts t;
    lg_luts_build(&t);
    auto *m = tb.m;

    RopeBench a{"rope_260k_q", 8}, b{"rope_260k_k", 4}, c{"rope_h128", 4};
    RopeBench d{"rope_260k_share", 12}, e{"rope_h128_share", 3};
    d.lat0 = e.lat0 = LG_ROPE_SHARE_Y0;
    d.lat1 = e.lat1 = LG_ROPE_SHARE_Y1;
    d.live_pos = e.live_pos = true;
    a.p = {&m->a_s_valid, &m->a_s_ready, &m->a_s_data, &m->a_s_pos,
           &m->a_m_valid, &m->a_m_ready, &m->a_m_last, &m->a_m_data};
    b.p = {&m->b_s_valid, &m->b_s_ready, &m->b_s_data, &m->b_s_pos,
           &m->b_m_valid, &m->b_m_ready, &m->b_m_last, &m->b_m_data};
    c.p = {&m->c_s_valid, &m->c_s_ready, &m->c_s_data, &m->c_s_pos,
           &m->c_m_valid, &m->c_m_ready, &m->c_m_last, &m->c_m_data};
    d.p = {&m->d_s_valid, &m->d_s_ready, &m->d_s_data, &m->d_s_pos,
           &m->d_m_valid, &m->d_m_ready, &m->d_m_last, &m->d_m_data};
    e.p = {&m->e_s_valid, &m->e_s_ready, &m->e_s_data, &m->e_s_pos,
           &m->e_m_valid, &m->e_m_ready, &m->e_m_last, &m->e_m_data};
    if (!load(a.inc, a.head_size, "rope_260k") || !load(b.inc, b.head_size, "rope_260k") ||
        !load(c.inc, c.head_size, "rope_h128") || !load(d.inc, d.head_size, "rope_260k_share") ||
        !load(e.inc, e.head_size, "rope_h128_share"))
        return tb.finish(false);
    RopeBench *benches[5] = {&a, &b, &c, &d, &e};
    a.nvec = 400;
    b.nvec = 400;
    c.nvec = 60;
    d.nvec = 300;
    e.nvec = 40;
    for (RopeBench *rb : benches) {
        rb->t = &t;
        rb->full_rate = 2;
        rb->setup();
    }

    tb.reset(3);
    while (!(a.done() && b.done() && c.done() && d.done() && e.done()) && tb.cycle < 2000000) {
        for (RopeBench *rb : benches)
            rb->drive();
        tb.settle();
        for (RopeBench *rb : benches)
            rb->sample();
        tb.tick();
        for (RopeBench *rb : benches)
            rb->after_edge(tb.cycle);
    }
    bool ok = true;
    for (RopeBench *rb : benches) {
        std::printf("%s: %d x %d, %d vectors, %llu outputs checked (%llu saturated), %llu at the "
                    "promised cycle, %llu errors\n",
                    rb->name, rb->n_heads, rb->head_size, rb->received,
                    (unsigned long long)rb->checked, (unsigned long long)rb->sats,
                    (unsigned long long)rb->timed, (unsigned long long)rb->errors);
        ok &= rb->errors == 0 && rb->done() && rb->timed == (uint64_t)(rb->full_rate * rb->n()) &&
              rb->sats > 0;
    }
    return tb.finish(ok);
}
