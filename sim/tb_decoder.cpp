// tb_decoder: the emitted decoder (<prefix>_top, verilated with --prefix
// Vdut) co-simulated against the bit-exact C model, logit by logit.
//
// The harness builds the same lg_qmodel the emitter built (lg_decoder_qmodel:
// the checkpoint's weights, or the seeded synthetic ones, default quantizer
// options) and checks that it matches the emitted design (the hash in
// manifest.json). It runs one or more sequences through the top module, as
// a host would: ctl_start, the prompt on s_tok (random valid gaps), the
// generated tokens taken from m_tok (random ready gaps). Alongside, the C
// reference runs llama2.c's generate() loop itself (lg_ref_forward for each
// position, lg_ref_sample after the last prompt token), so every position's
// whole logit vector (the m_logit tap) and every sampled token are compared,
// as are the sticky error flags at the end of each sequence and the K/V
// cache's rows (every RAM write recorded: KvTap in dec_common.h).
//
// Arguments (plusargs, any order):
//   +dir=DIR               the emitted decoder (files.f, images, manifest.json)
//   +config=NAME           preset; overrides as in the CLI: +lanes=N +dim=N
//                          +hidden-dim=N +n-layers=N +n-heads=N +n-kv-heads=N
//                          +vocab-size=N +seq-len=N +rope-theta=N +group-size=N
//                          +kv-bits=N +kv-group=N
//   +checkpoint=FILE       real weights (else synthetic, as the emitter)
//   +tokenizer=FILE        prints the story as it streams (else the token ids); needed by +prompt
//   +prompt=TEXT           prompt text (encoded with BOS, as llama2.c)
//   +tokens=A,B,...        prompt token ids instead (BOS included if wanted)
//   +teacher=N             prompt = BOS + the reference's greedy continuation,
//                          N positions in all (teacher forcing; the bench)
//   +n=N                   tokens to generate (ctl_n_gen; default 8)
//   +temp=T                temperature (decimal; 0 = greedy; default 0)
//   +seed=S                sampler seed (default 42)
//   +stall=P               percent of cycles a token stream stalls (default 25)
//   +errtest               also run the error sequences: an out-of-range prompt
//                          token, a prompt running past seq_len, generation
//                          running into seq_len, then a clean sequence again
//   +boot                  write the weight image through the wl_* port first
//   (--ext-weights designs, whose top streams the weights from outside: the
//   harness is the external memory, serving the emitted weights.bin)
//   +wlat=N                cycles from a taken weight request to its first beat
//                          offered (default 2: with the top's request register,
//                          the on-chip memory's 3 cycles from the decoder's
//                          start; 0 counts as 1)
//   +wstall=P              percent of cycles the weight reader idles: request
//                          not taken, no beat offered (default: +stall's)
//   +quiet                 no story text
//   +verbose               per-stage progress (stage changes with cycle stamps)
//   +bench                 per-position cycles and the per-stage breakdown
//   +model=PCT             with +teacher +stall=0: fail when a position's cycles
//                          differ from lg_decoder_cycles() (the manifest's
//                          cycles/token model) by more than PCT percent
//   +trace[=FILE]          waveform (FST)
// Exit code 0 = every logit, token and K/V row matched and the flags were right.
#include "Vdut.h"
#include "dec_common.h"
#include "testb.h"
#include <verilated_syms.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

typedef TESTB<Vdut> TB;

// The on-chip top has the wl_* boot port; the --ext-weights top has the
// external weight stream instead (m_wreq, s_w, w_image_ready). Every access
// to either set of ports sits in a template over the model type, so that
// one harness compiles against both.
template <class M, class = void> struct HasBoot : std::false_type {};
template <class M>
struct HasBoot<M, std::void_t<decltype(std::declval<M &>().wl_we)>> : std::true_type {};
// (the --ext-weights 2 top: an AXI4 read master instead of the stream ports)
template <class M, class = void> struct HasAxi : std::false_type {};
template <class M>
struct HasAxi<M, std::void_t<decltype(std::declval<M &>().m_axi_arvalid)>> : std::true_type {};
static constexpr bool EXT_WEIGHTS = !HasBoot<Vdut>::value;


// ---- wide port helpers ---------------------------------------------------------------

template <class T> static void set_bits(T &port, const uint64_t *w, int bits)
{
    (void)bits;
    port = (T)w[0];
}
template <std::size_t N> static void set_bits(VlWide<N> &port, const uint64_t *w, int bits)
{
    for (std::size_t i = 0; i < N; i++) {
        int k = (int)i * 32;
        port[i] = k < bits ? (uint32_t)(w[k / 64] >> (k % 64)) : 0u;
    }
}

// ---- the bench -------------------------------------------------------------------------------

static const char *STAGE_NAMES[] = {"idle", "tok", "embed", "norm", "matvec", "kvwait",
                                    "attn", "sample", "next", "end"};
static const char *KIND_NAMES[] = {"Wq", "Wk", "Wv", "Wo", "W1", "W3", "W2", "Wcls"};
enum { N_STAGES = 10, N_KINDS = 8 };

// The external memory of an --ext-weights design, holding the emitted
// weights.bin (read as a reader would, not rebuilt).
//  - --ext-weights 1 (stream ports): serves the beat ranges the top
//    requests, with +wlat latency and +wstall random idle cycles, holding a
//    beat offered until it is taken (AXI-stream rules); takes a request only
//    when the last range is served and checks it lies inside the image (a
//    request the decoder made too early stops the top's own check).
//  - --ext-weights 2 (AXI4): the image at byte address `base`, a few words
//    below a 4 KiB boundary; ARREADY low on +wstall percent of cycles, each
//    burst's data +wlat cycles after its address is taken, RVALID gaps on
//    +wstall percent, bursts answered in order; checks every address (WB-
//    aligned, at most LG_AXI_MAX_BURST words, the top's MAX_BURST default,
//    inside the image's words) and at most +axi-max-out bursts outstanding
//    (default LG_AXI_MAX_OUTSTANDING, the top's MAX_OUTSTANDING default; a
//    model verilated with another -GMAX_OUTSTANDING is run with its value).
// true on pct percent of calls
static bool chance(std::mt19937_64 &rng, int pct)
{
    return pct > 0 && (int)(rng() % 100) < pct;
}

struct Burst {
    uint64_t addr;
    int words, sent;
    uint64_t ready_at;
};
struct WeightServer {
    uint64_t base = 0x40000000ull - 3 * 128; // (AXI: 128-byte aligned at any width to 1024)
    std::deque<Burst> bursts;
    bool rv = false, take_ar = false, take_r = false;
    uint64_t now = 0;
    std::vector<uint8_t> bin; // the weights.bin bytes
    int beat_bytes = 0, beat_bits = 0;
    int64_t nbeats = 0;
    int lat = 2, stall_pct = 0;
    bool active = false, offered = false;
    int64_t cur = 0, last = 0, wait = 0;
    uint64_t requests = 0, beats = 0, idle = 0; // served; cycles a beat was due but not offered
    bool take_req = false, take_beat = false;   // this cycle's handshakes

    bool load(const char *path, const lg_wimage &img)
    {
        FILE *f = std::fopen(path, "rb");
        if (!f) {
            std::printf("tb_decoder: cannot open %s (an --ext-weights design's image)\n", path);
            return false;
        }
        std::fseek(f, 0, SEEK_END);
        long n = std::ftell(f);
        std::fseek(f, 0, SEEK_SET);
        bin.resize(n > 0 ? (size_t)n : 0);
        size_t got = n > 0 ? std::fread(bin.data(), 1, (size_t)n, f) : 0;
        std::fclose(f);
        beat_bits = img.beat_bits;
        beat_bytes = lg_wimage_beat_bytes(&img);
        nbeats = img.nbeats;
        if (got != (size_t)nbeats * (size_t)beat_bytes) {
            std::printf("tb_decoder: %s has %zu bytes, the image %lld beats of %d bytes\n", path,
                        got, (long long)nbeats, beat_bytes);
            return false;
        }
        return true;
    }

    // beat b as 64-bit words (bit k of the beat = bit k % 64 of word k / 64)
    void beat(int64_t b, uint64_t *w, int words) const
    {
        std::memset(w, 0, sizeof *w * (size_t)words);
        for (int i = 0; i < beat_bytes; i++)
            w[i / 8] |= (uint64_t)bin[(size_t)b * (size_t)beat_bytes + (size_t)i] << (8 * (i % 8));
    }

    // Before the clock edge: drive the ports, then see the handshakes.
    template <class M> void drive(M *m, std::mt19937_64 &rng)
    {
        if constexpr (!HasBoot<M>::value && !HasAxi<M>::value) {
            m->m_wreq_ready = !active && !chance(rng, stall_pct);
            bool due = active && wait == 0;
            if (due && !offered && chance(rng, stall_pct))
                idle++;
            else if (due)
                offered = true;
            m->s_w_valid = offered;
            uint64_t w[12]; // up to 64 lanes and 16 dexps: 576 bits
            beat(offered ? cur : 0, w, 12);
            set_bits(m->s_w_data, w, beat_bits);
            m->eval(); // s_w_ready may follow s_w_valid in the same cycle
            take_req = m->m_wreq_valid && m->m_wreq_ready;
            take_beat = m->s_w_valid && m->s_w_ready;
            if (take_req) {
                int64_t first = (int64_t)m->m_wreq_first, lst = (int64_t)m->m_wreq_last;
                CHECK(first <= lst && lst < nbeats, "weight request %lld .. %lld outside the %lld-beat image",
                      (long long)first, (long long)lst, (long long)nbeats);
                cur = first;
                last = lst < nbeats ? lst : nbeats - 1;
            }
        } else if constexpr (HasAxi<M>::value) {
            // the port's bytes (IData, QData or VlWide<N>: AXI_DW is 32 << k)
            const int wb = (int)sizeof m->m_axi_rdata;
            m->w_base = (uint32_t)base;
            m->m_axi_arready = !chance(rng, stall_pct);
            if (!rv && !bursts.empty() && now >= bursts.front().ready_at) {
                if (chance(rng, stall_pct))
                    idle++;
                else
                    rv = true;
            }
            m->m_axi_rvalid = rv;
            uint64_t w[16] = {0}; // up to 1024 bits
            bool lastw = false;
            if (rv) {
                const Burst &b = bursts.front();
                uint64_t a = b.addr + (uint64_t)b.sent * (uint64_t)wb;
                for (int i = 0; i < wb; i++) {
                    uint64_t o = a + (uint64_t)i - base;
                    uint8_t v = a + (uint64_t)i >= base && o < bin.size() ? bin[(size_t)o] : 0xa5;
                    w[i / 8] |= (uint64_t)v << (8 * (i % 8));
                }
                lastw = b.sent + 1 == b.words;
            }
            set_bits(m->m_axi_rdata, w, 8 * wb);
            m->m_axi_rlast = lastw;
            m->m_axi_rresp = 0;
            m->eval();
            take_ar = m->m_axi_arvalid && m->m_axi_arready;
            take_r = m->m_axi_rvalid && m->m_axi_rready;
            if (take_ar) {
                uint64_t ad = m->m_axi_araddr;
                int n = (int)m->m_axi_arlen + 1;
                uint64_t end = base + ((uint64_t)bin.size() + (uint64_t)wb - 1) / (uint64_t)wb *
                                          (uint64_t)wb;
                CHECK(ad % (uint64_t)wb == 0 && ad >= base &&
                          ad + (uint64_t)n * (uint64_t)wb <= end && n <= LG_AXI_MAX_BURST,
                      "AXI read 0x%llx + %d words of %d bytes: outside the image's words "
                      "0x%llx .. 0x%llx, misaligned or longer than %d",
                      (unsigned long long)ad, n, wb, (unsigned long long)base,
                      (unsigned long long)end, LG_AXI_MAX_BURST);
                CHECK(!m->st_err_wresp && !m->st_err_wbase, "AXI reader error flags set");
                pend_addr = ad;
                pend_words = n;
            }
        } else {
            (void)m;
            (void)rng;
        }
    }
    uint64_t pend_addr = 0;
    int pend_words = 0;
    size_t max_out = 0;       // AXI: bursts outstanding at most
    int max_out_allowed = LG_AXI_MAX_OUTSTANDING; // ... and the limit (+axi-max-out)
    // After the edge.
    void after()
    {
        if (take_r) {
            beats++;
            rv = false;
            if (++bursts.front().sent == bursts.front().words)
                bursts.pop_front();
        }
        if (take_ar) {
            requests++;
            bursts.push_back(Burst{pend_addr, pend_words, 0, now + 1 + (uint64_t)(lat > 1 ? lat - 1 : 0)});
            CHECK(bursts.size() <= (size_t)max_out_allowed,
                  "AXI: %zu bursts outstanding (MAX_OUTSTANDING %d)", bursts.size(),
                  max_out_allowed);
            if (bursts.size() > max_out)
                max_out = bursts.size();
        }
        take_r = take_ar = false;
        now++;
        if (take_beat) {
            beats++;
            offered = false;
            if (cur++ == last)
                active = false;
        }
        if (active && wait > 0)
            wait--;
        if (take_req) {
            requests++;
            active = true;
            wait = lat > 0 ? lat - 1 : 0;
        }
    }
};

struct Harness {
    WeightServer ws;
    KvTap kvt;
    TB *tb;
    Vdut *m;
    Ref ref;
    const lg_tokenizer *tok;
    lg_config cfg;
    std::mt19937_64 rng;
    int stall_pct;
    bool quiet, verbose, bench;
    // internal state (public_flat_rd signals of the controller)
    const CData *state_p, *kind_p;
    // per-stage cycles, all sequences: stage x kind (kind only for matvec)
    uint64_t stage_cycles[N_STAGES][N_KINDS];
    std::vector<uint64_t> pos_cycles; // cycles per position (interval between last logits)
    std::vector<uint64_t> pos_mv, pos_att, pos_oth;
    uint64_t sim_cycles;

    bool chance(int pct) { return ::chance(rng, pct); }

    void find_internal()
    {
        state_p = kind_p = nullptr;
        const VerilatedScopeNameMap *mp = tb->ctx->scopeNameMap();
        if (!mp)
            return;
        for (const auto &kv : *mp) {
            std::string name = kv.first;
            if (name.size() < 6 || name.compare(name.size() - 6, 6, ".u_dec") != 0)
                continue;
            const VerilatedScope *sc = kv.second;
            VerilatedVar *s = sc->varFind("state_reg");
            VerilatedVar *k = sc->varFind("kind_reg");
            if (s && k) {
                state_p = (const CData *)s->datap();
                kind_p = (const CData *)k->datap();
            }
        }
    }

    int stage() const { return state_p ? (*state_p & 15) : 0; }
    int kind() const { return kind_p ? (*kind_p & 7) : 0; }

    void print_piece(int prev, int next)
    {
        if (quiet || next == 1)
            return;
        if (tok)
            lg_tokenizer_print_piece(stdout, lg_tokenizer_decode(tok, prev, next));
        else // no tokenizer (synthetic weights): the ids, space separated
            std::printf("%d ", next);
        std::fflush(stdout);
    }

    bool tracing; // +trace: the full testb.h tick (settle, edge, trace samples)

    // One clock cycle. Without a trace: the rising and the falling edge
    // only (Verilator settles the inputs changed since the last eval before
    // it processes the edge), half the evaluations of testb.h's tick.
    void tick()
    {
        if (EXT_WEIGHTS)
            ws.drive(m, wrng);
        kvt.sample(m->rst);
        if (tracing) {
            tb->tick();
        } else {
            m->clk = 1;
            m->eval();
            m->clk = 0;
            m->eval();
            tb->cycle++;
        }
        if (EXT_WEIGHTS)
            ws.after();
    }
    std::mt19937_64 wrng; // the weight reader's own draws (the token streams' stay as they were)

    // Runs one sequence; returns false on a hang.
    bool run(const Sequence &s, int index)
    {
        ref.begin(s);
        if (!quiet)
            std::printf("%s-- sequence %d: %s (%zu prompt ids, n_gen %d, inv_temp %u, seed %u)\n",
                        index ? "\n" : "", index, s.what, s.prompt.size(), s.n_gen, s.inv_temp,
                        s.seed);
        // wait for idle and weights
        for (int i = 0; m->st_busy || !m->st_weights_ready; i++) {
            if (i > 1000000) {
                CHECK(false, "decoder never became idle with weights ready");
                return false;
            }
            tick();
        }
        // the seed, a byte a cycle, least significant first (none: the PRNG
        // goes on from the last run)
        for (int b = 0; s.reseed && b < 4; b++) {
            m->ctl_seed_we = 1;
            m->ctl_seed_byte = (uint8_t)(s.seed >> (8 * b));
            tick();
        }
        m->ctl_seed_we = 0;
        m->ctl_start = 1;
        m->ctl_inv_temp = s.inv_temp;
        m->ctl_n_gen = (uint32_t)s.n_gen;
        tick();
        m->ctl_start = 0;
        // (ctl_inv_temp is read during the run: held until st_busy falls)
        m->ctl_n_gen = 0;
        // seed writes while busy are ignored: the run's draws must not see them
        m->ctl_seed_we = 1;
        m->ctl_seed_byte = 0xa5;
        for (int i = 0; i < 8; i++)
            tick();
        m->ctl_seed_we = 0;

        size_t sent = 0;
        uint64_t last_progress = tb->cycle, last_vec = tb->cycle;
        uint64_t c_mv = m->cnt_matvec, c_att = m->cnt_attn, c_oth = m->cnt_other;
        int last_stage = -1, last_kind = -1;
        uint64_t watchdog = 200000 + 50ull * lg_decoder_cycles(&cfg, cfg.m.seq_len - 1);
        while (true) {
            // host side: prompt tokens and token sink with random stalls
            bool offer = sent < s.prompt.size() && !chance(stall_pct);
            m->s_tok_valid = offer;
            m->s_tok_data = offer ? (uint32_t)s.prompt[sent] : 0x5a5a5a5a & ((1u << 16) - 1);
            m->s_tok_last = offer && sent + 1 == s.prompt.size();
            m->m_tok_ready = !chance(stall_pct);
            // (no settle: every output sampled below comes from registers,
            // none depends on the inputs just set)

            int st = stage(), kd = kind();
            stage_cycles[st][st == 4 ? kd : 0]++;
            if (verbose && (st != last_stage || (st == 4 && kd != last_kind)))
                std::printf("[%llu] pos %u %s%s%s\n", (unsigned long long)tb->cycle,
                            (unsigned)m->st_pos, STAGE_NAMES[st], st == 4 ? " " : "",
                            st == 4 ? KIND_NAMES[kd] : "");
            last_stage = st;
            last_kind = kd;

            if (m->s_tok_valid && m->s_tok_ready)
                sent++;
            if (m->m_logit_valid) {
                int p = ref.logit((int32_t)m->m_logit_data, m->m_logit_last);
                if (p >= 0) {
                    // prompt text: the next prompt token after this position
                    if (p + 1 < ref.n_prompt)
                        print_piece(ref.inputs[p], ref.inputs[p + 1]);
                    uint64_t now = tb->cycle + 1;
                    pos_cycles.push_back(now - last_vec);
                    pos_mv.push_back(m->cnt_matvec - c_mv);
                    pos_att.push_back(m->cnt_attn - c_att);
                    pos_oth.push_back(m->cnt_other - c_oth);
                    c_mv = m->cnt_matvec;
                    c_att = m->cnt_attn;
                    c_oth = m->cnt_other;
                    last_vec = now;
                    last_progress = tb->cycle;
                }
            }
            if (m->m_tok_valid && m->m_tok_ready) {
                int t = (int)m->m_tok_data;
                CHECK(!ref.exp_tokens.empty(), "unexpected token %d on m_tok", t);
                if (!ref.exp_tokens.empty()) {
                    std::pair<int, int> e = ref.exp_tokens.front();
                    ref.exp_tokens.pop_front();
                    CHECK(t == e.second, "sampled token %d, reference %d", t, e.second);
                    print_piece(e.first, t);
                }
                last_progress = tb->cycle;
            }
            tick();
            if (!m->st_busy && sent == s.prompt.size() && ref.exp_tokens.empty())
                break;
            if (tb->cycle - last_progress > watchdog) {
                CHECK(false, "no progress for %llu cycles (stage %s, pos %u)",
                      (unsigned long long)watchdog, STAGE_NAMES[stage()], (unsigned)m->st_pos);
                return false;
            }
        }
        CHECK(ref.tap.empty(), "a partial logit vector (%zu words) at the end", ref.tap.size());
        ref.end_kv_check();
        CHECK(ref.pos_done == (int)ref.inputs.size(), "%d positions ran, the reference has %zu",
              ref.pos_done, ref.inputs.size());
        CHECK(ref.exp_tokens.empty(), "%zu expected tokens never came", ref.exp_tokens.size());
        CHECK((bool)m->st_err_pos == ref.err_pos, "st_err_pos = %d, expected %d",
              (int)m->st_err_pos, (int)ref.err_pos);
        CHECK((bool)m->st_err_token == ref.err_tok, "st_err_token = %d, expected %d",
              (int)m->st_err_token, (int)ref.err_tok);
        if (!quiet)
            std::printf("\n-- %d positions, %d tokens generated, err_pos %d, err_token %d\n",
                        ref.pos_done, s.n_gen - ref.gen_left, (int)m->st_err_pos,
                        (int)m->st_err_token);
        return true;
    }
};

// ---- weight ports -----------------------------------------------------------------------------

template <class M> static void ports_idle(M *m)
{
    if constexpr (HasBoot<M>::value) {
        m->wl_we = 0;
        m->wl_done = 0;
        m->wl_addr = 0;
    } else if constexpr (HasAxi<M>::value) {
        m->w_image_ready = 0;
        m->m_axi_arready = 0;
        m->m_axi_rvalid = 0;
    } else {
        m->w_image_ready = 0;
        m->m_wreq_ready = 0;
        m->s_w_valid = 0;
    }
}

template <class M> static void image_ready(M *m)
{
    if constexpr (!HasBoot<M>::value)
        m->w_image_ready = 1;
    else
        (void)m;
}

// The on-chip top's boot port: the whole image written beat by beat.
template <class T> static void boot_load(T *tb, const lg_wimage &img)
{
    auto *m = tb->m;
    if constexpr (HasBoot<std::remove_pointer_t<decltype(m)>>::value) {
        for (int64_t b = 0; b < img.nbeats; b++) {
            m->wl_we = 1;
            m->wl_addr = (uint32_t)b;
            set_bits(m->wl_data, img.beats + b * img.words, img.beat_bits);
            tb->tick();
            m->wl_we = 0;
            CHECK(!m->st_weights_ready, "st_weights_ready high during the boot load");
        }
        m->wl_done = 1;
        tb->tick();
        m->wl_done = 0;
        tb->tick();
        CHECK(m->st_weights_ready, "st_weights_ready low after wl_done");
    } else {
        (void)img; // (refused in main)
    }
}

// ---- main -------------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    lg_err err;
    DecSetup ds;
    if (dec_setup("tb_decoder", &ds))
        return 2;
    lg_config &cfg = ds.cfg;
    lg_qmodel &qm = ds.qm;
    bool have_tok = ds.have_tok;
    lg_tokenizer &tok = ds.tok;
    Sequence main_seq = ds.main_seq;
    std::vector<Sequence> seqs;
    int V = cfg.m.vocab_size, S = cfg.m.seq_len;
    int bad_id = V; // the smallest rejected id (TOK_W holds it)
    seqs.push_back(main_seq);
    if (has("errtest")) {
        Sequence a;
        a.prompt = {1, bad_id, 5 % V, bad_id, 7 % V};
        a.n_gen = 3;
        a.inv_temp = 0;
        a.seed = 7;
        a.what = "out-of-range prompt ids (rejected, the prompt goes on)";
        seqs.push_back(a);
        Sequence b;
        b.prompt = {1, 9 % V, bad_id};
        b.n_gen = 4;
        b.inv_temp = 0;
        b.seed = 7;
        b.what = "last prompt id out of range (no sampling)";
        seqs.push_back(b);
        if (S <= 64) {
            Sequence c;
            c.prompt.push_back(1);
            for (int i = 1; i < S + 3; i++)
                c.prompt.push_back((3 * i + 2) % V);
            c.n_gen = 2;
            c.inv_temp = 0;
            c.seed = 7;
            c.what = "prompt longer than seq_len (extra ids rejected)";
            seqs.push_back(c);
            Sequence d;
            d.prompt = {1, 4 % V};
            // past seq_len by up to 5, as far as ctl_n_gen's POS_W bits
            // reach (a wider value is not a value of the port)
            d.n_gen = S + 5 < ds.n_gen_max ? S + 5 : ds.n_gen_max;
            d.inv_temp = inv_temp_q16("0.9");
            d.seed = 11;
            d.what = "generation into seq_len";
            seqs.push_back(d);
        }
        Sequence e = main_seq;
        e.what = "main again after the errors";
        seqs.push_back(e);
        Sequence f = main_seq;
        f.reseed = false;
        f.what = "main again without seed writes (the PRNG goes on from the last run)";
        seqs.push_back(f);
    }

    TB *tb = new TB(argc, argv, "tb_decoder");
    Harness h;
    std::memset(h.stage_cycles, 0, sizeof h.stage_cycles);
    h.tb = tb;
    h.m = tb->m;
    h.cfg = cfg;
    h.tok = have_tok ? &tok : nullptr;
    h.rng.seed((uint64_t)argi("stallseed", 1));
    h.stall_pct = (int)argi("stall", 25);
    h.quiet = has("quiet");
    h.verbose = has("verbose");
    h.bench = has("bench");
    h.tracing = has("trace");
    h.ref.qm = &qm;
    h.ref.vocab = V;
    h.ref.seq_len = S;
    if (lg_ref_model_init(&h.ref.rm, &qm, &err)) {
        std::printf("tb_decoder: %s\n", err.msg);
        return 2;
    }
    h.find_internal();
    h.ref.attach_kv(&h.kvt, tb->ctx, h.cfg);
    if (!h.state_p && (h.verbose || h.bench))
        std::printf("tb_decoder: controller state not visible; no per-stage breakdown\n");

    Vdut *m = tb->m;
    m->ctl_start = 0;
    m->s_tok_valid = 0;
    m->m_tok_ready = 0;
    ports_idle(m);
    tb->reset(4);

    if (EXT_WEIGHTS && has("boot")) {
        std::printf("tb_decoder: +boot: this top has no boot port (an --ext-weights design)\n");
        return 2;
    }
    if constexpr (EXT_WEIGHTS) {
        // the external memory: the emitted weights.bin, which must be the
        // image of this model (checked beat by beat against the C side's)
        lg_wimage img;
        if (lg_wimage_build(&img, &qm, cfg.hw.lanes, &err)) {
            std::printf("tb_decoder: %s\n", err.msg);
            return 2;
        }
        char prefix[96], path[160];
        lg_decoder_prefix(prefix, sizeof prefix, &qm);
        std::snprintf(path, sizeof path, "%s_weights.bin", prefix);
        if (!h.ws.load(path, img))
            return 2;
        std::vector<uint64_t> w(12);
        int64_t bad = 0;
        for (int64_t b = 0; b < img.nbeats; b++) {
            h.ws.beat(b, w.data(), 12);
            for (int i = 0; i < img.words; i++)
                bad += w[(size_t)i] != img.beats[b * img.words + i];
        }
        CHECK(bad == 0, "%s: %lld words differ from the model's weight image", path,
              (long long)bad);
        lg_wimage_free(&img);
        h.ws.lat = (int)argi("wlat", 2);
        h.ws.max_out_allowed = (int)argi("axi-max-out", LG_AXI_MAX_OUTSTANDING);
        h.ws.stall_pct = (int)argi("wstall", h.stall_pct);
        h.wrng.seed((uint64_t)argi("stallseed", 1) + 77);
        // the image is not there yet: no token is taken, weights not ready
        for (int i = 0; i < 16; i++) {
            m->s_tok_valid = 1;
            m->s_tok_data = 1;
            h.tick();
            CHECK(!m->st_weights_ready && !m->s_tok_ready,
                  "a token taken (or weights ready) before w_image_ready");
        }
        m->s_tok_valid = 0;
        image_ready(m);
    } else if (has("boot")) {
        // optional: (re)load the weight image through the boot port
        lg_wimage img;
        if (lg_wimage_build(&img, &qm, cfg.hw.lanes, &err)) {
            std::printf("tb_decoder: %s\n", err.msg);
            return 2;
        }
        boot_load(tb, img);
        lg_wimage_free(&img);
    }

    uint64_t c_start = tb->cycle;
    auto s0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < seqs.size(); i++)
        if (!h.run(seqs[i], (int)i))
            break;
    auto s1 = std::chrono::steady_clock::now();
    double wall = std::chrono::duration<double>(s1 - s0).count();
    uint64_t cycles = tb->cycle - c_start;

    // ---- report ----
    lg_config_stats st;
    lg_config_stats_compute(&cfg, &st);
    size_t np = h.pos_cycles.size();
    if (np > 0) {
        uint64_t sum = 0;
        for (size_t i = 1; i < np; i++)
            sum += h.pos_cycles[i];
        std::printf("cycles/token: %llu at position 0 (first, from ctl_start)",
                    (unsigned long long)h.pos_cycles[0]);
        if (np > 1)
            std::printf(", %.1f mean over positions 1..%zu, %llu at the last",
                        (double)sum / (double)(np - 1), np - 1,
                        (unsigned long long)h.pos_cycles[np - 1]);
        std::printf("\n");
    }
    std::printf("simulated: %llu cycles in %.2f s = %.0f cycles/s (%.1f tokens/s)\n",
                (unsigned long long)cycles, wall, wall > 0 ? (double)cycles / wall : 0.0,
                wall > 0 ? (double)np / wall : 0.0);
    h.kvt.report();
    if (EXT_WEIGHTS)
        std::printf("weight %s: %llu %s, %llu %s served, latency %d, %llu idle cycles drawn%s\n",
                    HasAxi<Vdut>::value ? "memory (AXI4)" : "reader",
                    (unsigned long long)h.ws.requests,
                    HasAxi<Vdut>::value ? "bursts" : "requests", (unsigned long long)h.ws.beats,
                    HasAxi<Vdut>::value ? "words" : "beats", h.ws.lat,
                    (unsigned long long)h.ws.idle,
                    HasAxi<Vdut>::value ? (", " + std::to_string(h.ws.max_out) +
                                           " bursts outstanding at most (limit " +
                                           std::to_string(h.ws.max_out_allowed) + ")")
                                              .c_str()
                                        : "");
    if (h.bench && np > 0) {
        // one line for make bench: position 0 and the last position run
        size_t last = np - 1;
        int lastpos = (int)last;
        uint64_t m0 = st.weight_macs + lg_attn_macs(&cfg.m, 0);
        uint64_t ml = st.weight_macs + lg_attn_macs(&cfg.m, lastpos);
        std::printf("BENCH_SUMMARY lanes %d pos0 %llu util0 %.3f model0 %lld last %d cycles %llu "
                    "util %.3f model %lld cps %.0f\n",
                    cfg.hw.lanes, (unsigned long long)h.pos_cycles[0],
                    (double)m0 / cfg.hw.lanes / (double)h.pos_cycles[0],
                    (long long)lg_decoder_cycles(&cfg, 0), lastpos,
                    (unsigned long long)h.pos_cycles[last],
                    (double)ml / cfg.hw.lanes / (double)h.pos_cycles[last],
                    (long long)lg_decoder_cycles(&cfg, lastpos),
                    wall > 0 ? (double)cycles / wall : 0.0);
        std::printf("per position: pos cycles matvec attn other model util\n");
        for (size_t i = 0; i < np; i++) {
            if (np > 12 && i >= 4 && i + 4 < np && i % 64 != 0)
                continue;
            uint64_t macs = st.weight_macs + lg_attn_macs(&cfg.m, (int64_t)i);
            std::printf("BENCH pos %zu cycles %llu matvec %llu attn %llu other %llu model %lld "
                        "util %.3f\n",
                        i, (unsigned long long)h.pos_cycles[i], (unsigned long long)h.pos_mv[i],
                        (unsigned long long)h.pos_att[i], (unsigned long long)h.pos_oth[i],
                        (long long)lg_decoder_cycles(&cfg, (int32_t)i),
                        (double)macs / cfg.hw.lanes / (double)h.pos_cycles[i]);
        }
        if (h.state_p) {
            std::printf("per stage (all positions): cycles, share\n");
            uint64_t tot = 0;
            for (int s = 0; s < N_STAGES; s++)
                for (int k = 0; k < N_KINDS; k++)
                    tot += h.stage_cycles[s][k];
            for (int s = 0; s < N_STAGES; s++)
                for (int k = 0; k < N_KINDS; k++) {
                    if (!h.stage_cycles[s][k] || (s != 4 && k))
                        continue;
                    std::printf("BENCH stage %s%s%s %llu %.4f\n", STAGE_NAMES[s],
                                s == 4 ? "." : "", s == 4 ? KIND_NAMES[k] : "",
                                (unsigned long long)h.stage_cycles[s][k],
                                (double)h.stage_cycles[s][k] / (double)tot);
                }
        }
    }
    if (has("model") && np < 2) {
        // nothing to compare: a check that compared nothing must not pass
        std::printf("FAIL: +model needs positions past 0 (%zu ran; seq_len %d)\n", np,
                    (int)cfg.m.seq_len);
        errors++;
    } else if (has("model")) {
        // the cycle model of src/emit_decoder.c against every position
        // (from position 1 on: position 0 also counts from ctl_start)
        double tol = std::atof(arg("model", "2").c_str());
        double worst = 0;
        size_t worst_pos = 1;
        for (size_t i = 1; i < np; i++) {
            double model = (double)lg_decoder_cycles(&cfg, (int32_t)i);
            double dev = 100.0 * ((double)h.pos_cycles[i] - model) / model;
            if (std::fabs(dev) > std::fabs(worst)) {
                worst = dev;
                worst_pos = i;
            }
        }
        std::printf("cycle model: worst %+.2f %% at position %zu (%llu measured, %lld model; "
                    "limit %.1f %%)\n",
                    worst, worst_pos, (unsigned long long)h.pos_cycles[worst_pos],
                    (long long)lg_decoder_cycles(&cfg, (int32_t)worst_pos), tol);
        if (std::fabs(worst) > tol) {
            std::printf("FAIL: the cycle model is off by more than %.1f %%\n", tol);
            errors++;
        }
    }
    lg_ref_model_free(&h.ref.rm);
    dec_teardown(&ds);
    int rc = tb->finish(errors == 0);
    delete tb;
    return rc;
}
