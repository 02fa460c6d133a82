// tb_axi_wreader: the AXI4 weight reader (lg_axi_wreader) against an AXI memory
// model holding a weights.bin-style image (beat b at byte b * BB, least
// significant byte first).
//
// The model (tb_axi_wreader_top, verilated with --prefix Vdut) holds five
// instances (tests/hdl/gen_mem_units.c, gen_axi_wreader; the same table in
// the generated tb_axi_wreader_cfg.h), all running at once:
//   a  132-bit beats (260k at lanes 16: 17 bytes), 64-bit AXI, bursts of 16,
//      one outstanding
//   b  36-bit beats (lanes 4: 5 bytes), 256-bit AXI (a word holds 6.4
//      beats), bursts of 256, 2 outstanding
//   c  520-bit beats (lanes 64, two dexps: 65 bytes), 32-bit AXI, bursts of 1,
//      2 outstanding
//   d  12-bit beats (lanes 1: 2 bytes), 512-bit AXI, bursts of 4, 3 outstanding
//   e  68-bit beats (lanes 8: 9 bytes), 128-bit AXI, bursts of 8, 8 outstanding
// Each has its own random image (a few thousand beats, up to 2^BEAT_AW) at a
// random WB-aligned base a few words below a 4 KiB boundary, and its own
// memory: ARREADY low at random, each burst's data after a random latency
// (0 - 12 cycles), RVALID gaps at random, bursts queued in order.
// Checks, per instance:
//  - every beat of every request equal to the image's bytes, in order, the
//    count exact; m_w valid held and data stable while not ready;
//  - s_req_ready only while idle, and again the cycle after a range's last
//    beat is taken;
//  - the AXI read addresses: WB-aligned, ARSIZE log2(WB), INCR, at most
//    MAX_BURST words, never across 4 KiB, contiguous from the word holding
//    the range's first byte to the one holding its last (no word more, none
//    missing); AR valid held and stable until ready; never more than
//    MAX_OUTSTANDING bursts outstanding, and that many reached;
//  - no SLVERR / base error flags, except: a final request answered with
//    SLVERR raises st_err_resp, and a base off the word grid (by 1 byte or
//    by WB - 1) raises st_err_base;
//  - ranges: random (some of one beat, some at the image's end), the whole
//    image, the m_w side stalled at random (bursts up to 40 cycles);
//  - rate: with a memory that never waits and m_w always ready, the whole
//    image at one beat a cycle where a word holds a beat (b, d: WB >= BB),
//    else at the word rate (e: BB / WB cycles a beat; c: a word a cycle, an
//    address a cycle, two outstanding), a with one burst outstanding at
//    (MAX_BURST + 1) / MAX_BURST of its word rate (each burst's address
//    follows the last one's RLAST), within 3 %.
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "tb_axi_wreader_cfg.h"
#include "testb.h"

#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static int errors = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 20) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                             \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

static bool chance(int pct) { return pct > 0 && (int)(rng() % 100) < pct; }

// ---- ports of any width as bytes ---------------------------------------------------------

template <class T> static uint8_t get_byte(const T &port, int i)
{
    return i < (int)sizeof(T) ? (uint8_t)((uint64_t)port >> (8 * i)) : 0;
}
template <std::size_t N> static uint8_t get_byte(const VlWide<N> &port, int i)
{
    return i < (int)(4 * N) ? (uint8_t)(port[i / 4] >> (8 * (i % 4))) : 0;
}
template <class T> static void set_bytes(T &port, const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    port = (T)v;
}
template <std::size_t N> static void set_bytes(VlWide<N> &port, const uint8_t *b, int n)
{
    for (std::size_t w = 0; w < N; w++) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int i = (int)w * 4 + k;
            if (i < n)
                v |= (uint32_t)b[i] << (8 * k);
        }
        port[w] = v;
    }
}

// ---- one instance ---------------------------------------------------------------------

struct Cfg {
    const char *name;
    int beat_w, beat_aw, axi_dw, max_burst, max_out;
};

struct Burst {
    uint64_t addr;
    int words, sent;
    uint64_t ready_at; // first data cycle
};

// The instance's port accessors (one struct per instance, from a macro).
#define PORTS(x)                                                                             \
    struct P_##x {                                                                           \
        static auto &base(Vdut *m) { return m->x##_base; }                                   \
        static auto &req_valid(Vdut *m) { return m->x##_s_req_valid; }                       \
        static auto &req_ready(Vdut *m) { return m->x##_s_req_ready; }                       \
        static auto &req_first(Vdut *m) { return m->x##_s_req_first; }                       \
        static auto &req_last(Vdut *m) { return m->x##_s_req_last; }                         \
        static auto &w_valid(Vdut *m) { return m->x##_m_w_valid; }                           \
        static auto &w_ready(Vdut *m) { return m->x##_m_w_ready; }                           \
        static auto &w_data(Vdut *m) { return m->x##_m_w_data; }                             \
        static auto &araddr(Vdut *m) { return m->x##_araddr; }                               \
        static auto &arlen(Vdut *m) { return m->x##_arlen; }                                 \
        static auto &arsize(Vdut *m) { return m->x##_arsize; }                               \
        static auto &arburst(Vdut *m) { return m->x##_arburst; }                             \
        static auto &arvalid(Vdut *m) { return m->x##_arvalid; }                             \
        static auto &arready(Vdut *m) { return m->x##_arready; }                             \
        static auto &rdata(Vdut *m) { return m->x##_rdata; }                                 \
        static auto &rresp(Vdut *m) { return m->x##_rresp; }                                 \
        static auto &rlast(Vdut *m) { return m->x##_rlast; }                                 \
        static auto &rvalid(Vdut *m) { return m->x##_rvalid; }                               \
        static auto &rready(Vdut *m) { return m->x##_rready; }                               \
        static auto &err_resp(Vdut *m) { return m->x##_err_resp; }                           \
        static auto &err_base(Vdut *m) { return m->x##_err_base; }                           \
    };
#define X_PORTS(x, ...) PORTS(x)
AXIW_FOREACH(X_PORTS)

// One instance: its image, memory, test program and checks; the port access
// per instance in Inst<P> below.
struct InstBase {
    Cfg c;
    int bb, wb;
    int64_t nbeats;
    uint64_t base;
    std::vector<uint8_t> img;
    // the test program: ranges to request
    std::deque<std::pair<int64_t, int64_t>> todo;
    // request in flight
    bool busy = false, offered = false;
    int64_t first = 0, last = 0, next_beat = 0;
    uint64_t want_addr = 0, end_addr = 0; // next word address expected, one past the last
    // memory
    std::deque<Burst> bursts;
    bool rv = false; // rvalid offered (held until taken)
    int ar_stall = 20, r_stall = 20, w_stall = 20, max_lat = 12;
    bool slverr = false; // answer with SLVERR
    // previous cycle's outputs (stability checks)
    bool prev_w_wait = false, prev_ar_wait = false;
    std::vector<uint8_t> prev_w;
    uint64_t prev_araddr = 0;
    int prev_arlen = 0;
    // this cycle's handshakes
    bool f_req = false, f_w = false, f_ar = false, f_r = false;
    uint64_t beats_ok = 0, words = 0, reqs = 0;
    size_t max_out_seen = 0; // bursts outstanding at most
    uint64_t first_w_cycle = 0, last_w_cycle = 0;
    int w_burst_left = 0;

    explicit InstBase(const Cfg &cfg) : c(cfg)
    {
        bb = (c.beat_w + 7) / 8;
        wb = c.axi_dw / 8;
        nbeats = std::min<int64_t>((int64_t)1 << c.beat_aw, 600 + (int64_t)(rng() % 2400));
        img.resize((size_t)(nbeats * bb));
        for (auto &b : img)
            b = (uint8_t)rng();
        // the spare bits of each beat's top byte are zero in weights.bin
        if (c.beat_w % 8)
            for (int64_t b = 0; b < nbeats; b++)
                img[(size_t)(b * bb + bb - 1)] &= (uint8_t)((1u << (c.beat_w % 8)) - 1);
        // WB-aligned, a few words below a 4 KiB boundary
        base = 0x10000000ull + 4096ull * (rng() % 64) - (uint64_t)wb * (1 + rng() % 5);
    }
    virtual ~InstBase() {}
    virtual void drive(Vdut *m, uint64_t cycle) = 0;   // inputs before the edge
    virtual void observe(Vdut *m, uint64_t cycle) = 0; // outputs before the edge
    virtual void after(uint64_t cycle) = 0;            // state after the edge
    virtual bool err_resp(Vdut *m) const = 0;
    virtual bool err_base(Vdut *m) const = 0;

    uint8_t mem(uint64_t a) const
    {
        if (a >= base && a < base + img.size())
            return img[(size_t)(a - base)];
        return 0xa5; // past the image (the last word's tail)
    }

    bool idle() const { return !busy && !offered && todo.empty(); }

    void program(int n)
    {
        for (int i = 0; i < n; i++) {
            int64_t a = (int64_t)(rng() % (uint64_t)nbeats), b;
            switch (rng() % 5) {
            case 0: b = a; break;                                   // one beat
            case 1: b = nbeats - 1; break;                          // to the end
            case 2: b = std::min<int64_t>(nbeats - 1, a + (int64_t)(rng() % 5)); break;
            default: b = std::min<int64_t>(nbeats - 1, a + (int64_t)(rng() % 400)); break;
            }
            todo.push_back({a, b});
        }
        todo.push_back({0, nbeats - 1}); // the whole image, as the decoder asks per token
    }
};

template <class P> struct Inst : InstBase {
    explicit Inst(const Cfg &cfg) : InstBase(cfg) {}
    bool err_resp(Vdut *m) const override { return P::err_resp(m); }
    bool err_base(Vdut *m) const override { return P::err_base(m); }

    void drive(Vdut *m, uint64_t cycle) override
    {
        P::base(m) = (uint32_t)base;
        // the program: next range when idle
        if (!busy && !offered && !todo.empty() && !chance(30)) {
            first = todo.front().first;
            last = todo.front().second;
            todo.pop_front();
            offered = true;
        }
        P::req_valid(m) = offered;
        P::req_first(m) = (uint32_t)(offered ? first : 0);
        P::req_last(m) = (uint32_t)(offered ? last : 0);
        // m_w: bursts of not ready
        if (w_burst_left > 0)
            w_burst_left--;
        else if (chance(w_stall / 4))
            w_burst_left = 1 + (int)(rng() % 40);
        P::w_ready(m) = w_burst_left == 0 && !chance(w_stall);
        // AR
        P::arready(m) = !chance(ar_stall);
        // R: the front burst once its latency has passed
        if (!rv && !bursts.empty() && cycle >= bursts.front().ready_at && !chance(r_stall))
            rv = true;
        P::rvalid(m) = rv;
        std::vector<uint8_t> word((size_t)wb, 0);
        bool lastw = false;
        if (rv) {
            const Burst &bu = bursts.front();
            uint64_t a = bu.addr + (uint64_t)bu.sent * (uint64_t)wb;
            for (int i = 0; i < wb; i++)
                word[(size_t)i] = mem(a + (uint64_t)i);
            lastw = bu.sent + 1 == bu.words;
        }
        set_bytes(P::rdata(m), word.data(), wb);
        P::rlast(m) = lastw;
        P::rresp(m) = slverr ? 2 : 0;
    }

    void observe(Vdut *m, uint64_t cycle) override
    {
        f_req = P::req_valid(m) && P::req_ready(m);
        f_w = P::w_valid(m) && P::w_ready(m);
        f_ar = P::arvalid(m) && P::arready(m);
        f_r = P::rvalid(m) && P::rready(m);
        CHECK(!P::req_ready(m) || !busy, "%s: request ready while a range runs", c.name);
        CHECK(!P::err_base(m), "%s: st_err_base with an aligned base", c.name);
        CHECK(slverr || !P::err_resp(m), "%s: st_err_resp without an error response", c.name);
        // m_w
        std::vector<uint8_t> w((size_t)bb);
        for (int i = 0; i < bb; i++)
            w[(size_t)i] = get_byte(P::w_data(m), i);
        if (c.beat_w % 8)
            w[(size_t)bb - 1] &= (uint8_t)((1u << (c.beat_w % 8)) - 1);
        if (prev_w_wait)
            CHECK(P::w_valid(m) && w == prev_w, "%s: m_w valid dropped or data changed before ready",
                  c.name);
        CHECK(!P::w_valid(m) || busy, "%s: a beat with no request", c.name);
        if (f_w && busy) {
            CHECK(next_beat <= last, "%s: beat past the range %lld .. %lld", c.name,
                  (long long)first, (long long)last);
            bool same = std::memcmp(w.data(), &img[(size_t)(next_beat * bb)], (size_t)bb) == 0;
            CHECK(same, "%s: beat %lld differs from the image (range %lld .. %lld)", c.name,
                  (long long)next_beat, (long long)first, (long long)last);
            beats_ok += same;
            if (next_beat == first)
                first_w_cycle = cycle;
            last_w_cycle = cycle;
        }
        prev_w_wait = P::w_valid(m) && !P::w_ready(m);
        prev_w = w;
        // AR
        uint64_t ad = P::araddr(m);
        int len = P::arlen(m);
        if (prev_ar_wait)
            CHECK(P::arvalid(m) && ad == prev_araddr && len == prev_arlen,
                  "%s: AR valid dropped or changed before ready", c.name);
        if (f_ar) {
            CHECK(busy, "%s: a read address with no request", c.name);
            int n = len + 1;
            CHECK(ad % (uint64_t)wb == 0, "%s: araddr 0x%llx not %d-aligned", c.name,
                  (unsigned long long)ad, wb);
            CHECK(P::arsize(m) == __builtin_ctz((unsigned)wb) && P::arburst(m) == 1,
                  "%s: arsize %d / arburst %d", c.name, (int)P::arsize(m), (int)P::arburst(m));
            CHECK(n <= c.max_burst, "%s: burst of %d words > %d", c.name, n, c.max_burst);
            CHECK(ad / 4096 == (ad + (uint64_t)n * (uint64_t)wb - 1) / 4096,
                  "%s: burst 0x%llx + %d words crosses 4 KiB", c.name, (unsigned long long)ad, n);
            CHECK(ad == want_addr, "%s: araddr 0x%llx, expected 0x%llx (contiguous)", c.name,
                  (unsigned long long)ad, (unsigned long long)want_addr);
            CHECK(ad + (uint64_t)n * (uint64_t)wb <= end_addr,
                  "%s: burst 0x%llx + %d words past the range's last word 0x%llx", c.name,
                  (unsigned long long)ad, n, (unsigned long long)end_addr);
            want_addr = ad + (uint64_t)n * (uint64_t)wb;
        }
        prev_ar_wait = P::arvalid(m) && !P::arready(m);
        prev_araddr = ad;
        prev_arlen = len;
    }

    void after(uint64_t cycle) override
    {
        if (f_req) {
            busy = true;
            offered = false;
            next_beat = first;
            reqs++;
            uint64_t s = base + (uint64_t)first * (uint64_t)bb;
            uint64_t e = base + (uint64_t)(last + 1) * (uint64_t)bb;
            want_addr = s / (uint64_t)wb * (uint64_t)wb;
            end_addr = (e + (uint64_t)wb - 1) / (uint64_t)wb * (uint64_t)wb;
        }
        if (f_ar) {
            Burst bu;
            bu.addr = prev_araddr;
            bu.words = prev_arlen + 1;
            bu.sent = 0;
            bu.ready_at = cycle + 1 + (max_lat ? rng() % (uint64_t)(max_lat + 1) : 0);
            bursts.push_back(bu);
        }
        if (f_r) {
            words++;
            rv = false;
            if (++bursts.front().sent == bursts.front().words)
                bursts.pop_front();
        }
        // outstanding: addresses taken whose last word is not
        CHECK(bursts.size() <= (size_t)c.max_out, "%s: %zu bursts outstanding > %d", c.name,
              bursts.size(), c.max_out);
        max_out_seen = std::max(max_out_seen, bursts.size());
        if (f_w && busy && ++next_beat > last) {
            busy = false;
            CHECK(want_addr == end_addr, "%s: range %lld .. %lld: words read up to 0x%llx, "
                                         "its last word ends at 0x%llx",
                  c.name, (long long)first, (long long)last, (unsigned long long)want_addr,
                  (unsigned long long)end_addr);
            CHECK(bursts.empty(), "%s: range done with %zu bursts unread", c.name, bursts.size());
        }
    }

};

int main(int argc, char **argv)
{
    TB *tb = new TB(argc, argv, "tb_axi_wreader");
    rng.seed(tb->plusarg("seed", 1));
    Vdut *m = tb->m;
    std::vector<InstBase *> in;
#define X_INST(x, bw, baw, dw, mb, mo)                                                       \
    in.push_back(new Inst<P_##x>(Cfg{#x, bw, baw, dw, mb, mo}));
    AXIW_FOREACH(X_INST)
    // (each instance drives its own ports from the first cycle on)
    for (auto *x : in)
        x->drive(m, 0);
    tb->reset(4);

    auto run = [&](uint64_t limit) {
        uint64_t start = tb->cycle;
        while (true) {
            bool done = true;
            for (auto *x : in)
                done = done && x->idle();
            if (done)
                return true;
            if (tb->cycle - start > limit) {
                CHECK(false, "no end after %llu cycles", (unsigned long long)limit);
                return false;
            }
            uint64_t now = tb->cycle;
            for (auto *x : in)
                x->drive(m, now);
            tb->settle();
            for (auto *x : in)
                x->observe(m, now);
            tb->tick();
            for (auto *x : in)
                x->after(now);
        }
    };

    // 1. random ranges, everything stalling at random
    for (auto *x : in)
        x->program(60);
    run(4000000);
    for (auto *x : in)
        CHECK(x->max_out_seen == (size_t)x->c.max_out,
              "%s: at most %zu bursts outstanding, the limit %d never reached", x->c.name,
              x->max_out_seen, x->c.max_out);

    // 2. rate: the whole image with nothing waiting
    for (auto *x : in) {
        x->ar_stall = x->r_stall = x->w_stall = 0;
        x->max_lat = 0;
        x->w_burst_left = 0;
        x->todo.push_back({0, x->nbeats - 1});
    }
    run(4000000);
    for (auto *x : in) {
        double cyc = (double)(x->last_w_cycle - x->first_w_cycle + 1);
        double per_beat = cyc / (double)x->nbeats;
        // the word rate: a word a cycle, but with one burst outstanding a
        // cycle between bursts (the address follows the last RLAST)
        double word = x->c.max_out == 1 ? (x->c.max_burst + 1.0) / x->c.max_burst : 1.0;
        double want = x->wb >= x->bb ? 1.0 : word * x->bb / x->wb;
        std::printf("%s: %d-bit beats (%d bytes), %d-bit AXI, bursts <= %d, <= %d outstanding: "
                    "%lld beats, %.3f cycles a beat at full rate (expected %.3f)\n",
                    x->c.name, x->c.beat_w, x->bb, x->c.axi_dw, x->c.max_burst, x->c.max_out,
                    (long long)x->nbeats, per_beat, want);
        CHECK(per_beat <= want * 1.03 && per_beat >= want * 0.97,
              "%s: %.3f cycles a beat, expected %.3f", x->c.name, per_beat, want);
    }

    // 3. an error response raises st_err_resp (the data still comes)
    for (auto *x : in) {
        x->slverr = true;
        x->todo.push_back({0, 0});
    }
    run(100000);
    for (auto *x : in)
        CHECK(x->err_resp(m), "%s: st_err_resp not raised by SLVERR", x->c.name);

    // 4. a base off the word grid raises st_err_base (a byte off, WB - 1 off)
    for (int last_byte = 0; last_byte < 2; last_byte++) {
        for (auto *x : in) {
            x->base += last_byte ? (uint64_t)x->wb - 1 : 1;
            x->drive(m, tb->cycle);
        }
        tb->settle();
        for (auto *x : in) {
            CHECK(x->err_base(m), "%s: st_err_base low at base 0x%llx", x->c.name,
                  (unsigned long long)x->base);
            x->base -= last_byte ? (uint64_t)x->wb - 1 : 1;
        }
    }

    uint64_t beats = 0, reqs = 0, words = 0;
    for (auto *x : in) {
        beats += x->beats_ok;
        reqs += x->reqs;
        words += x->words;
    }
    std::printf("tb_axi_wreader: %llu requests, %llu beats checked, %llu AXI words, %llu cycles\n",
                (unsigned long long)reqs, (unsigned long long)beats, (unsigned long long)words,
                (unsigned long long)tb->cycle);
    int rc = tb->finish(errors == 0);
    for (auto *x : in)
        delete x;
    delete tb;
    return rc;
}
