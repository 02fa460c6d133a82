/*
 * llamagen: the command-line front end of libllamagen.
 *
 *   llamagen list                                   presets and their shapes
 *   llamagen info (--config NAME | --checkpoint F)  sizes, MACs, hardware parameters
 *   llamagen run [--float] --checkpoint F --tokenizer T [-n -t -s -i --tokens]
 *   llamagen eval --checkpoint F [--steps N | --tokens FILE] [--print]
 *   llamagen --config NAME [--checkpoint F] [...] -o DIR   emit the Verilog decoder
 *
 * Errors: every failure prints exactly one line "llamagen: <message>" on
 * stderr and exits 1 for runtime errors (bad file, bad config, unwritable
 * directory) or 2 for usage errors (unknown option or command, missing
 * value, a feature that is not built yet). `llamagen --help` has the rest.
 */
#define _XOPEN_SOURCE 700 // nftw() for removing temporary output trees

#include "llamagen/checkpoint.h"
#include "llamagen/config.h"
#include "llamagen/emit_decoder.h"
#include "llamagen/eval.h"
#include "llamagen/float_model.h"
#include "llamagen/quantize.h"
#include "llamagen/tokenizer.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <dirent.h>
#include <ctype.h>

// ---- errors -----------------------------------------------------------------

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

// Prints "llamagen: <message>" on stderr and returns code (for `return fail(...)`).
static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("llamagen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

// Reports a library error (its message is already one line).
static int report(int code, const lg_err *err) { return fail(code, "%s", err->msg); }

// ---- usage ------------------------------------------------------------------

static const char USAGE[] =
    "usage: llamagen <command> [options]\n"
    "       llamagen (--config NAME | --checkpoint F) [--tokenizer T] [overrides] -o DIR\n"
    "\n"
    "Turns a LLaMA-2/3 style model into a synthesizable, floating-point-free Verilog\n"
    "decoder, with a bit-exact integer C reference model.\n"
    "\n"
    "commands:\n"
    "  list                 the model presets and their shapes\n"
    "  info                 parameters, weight and K/V bytes, MACs per token and the\n"
    "                       hardware parameters of --config NAME or --checkpoint F\n"
    "                       (overrides apply; reads only the checkpoint's header)\n"
    "  run                  generate text like llama2.c's run: needs --checkpoint and\n"
    "                       --tokenizer; the bit-exact integer model by default,\n"
    "                       --float selects the float32 model\n"
    "  eval                 integer vs float model on --checkpoint F: teacher-forced\n"
    "                       top-1 agreement, logit error, and where the integer\n"
    "                       model run greedily on its own outputs leaves the sequence\n"
    "  (no command)         emit the decoder into -o DIR: one Verilog module per\n"
    "                       file, files.f, memory images (.hex), manifest.json and\n"
    "                       a README.md (synthetic weights without --checkpoint)\n"
    "\n"
    "model:\n"
    "  --config NAME        a preset (see 'llamagen list')\n"
    "  --checkpoint F       llama2.c checkpoint (legacy or ak42); gives the shape when\n"
    "                       --config is absent, else must have the preset's shape\n"
    "  --tokenizer T        llama2.c tokenizer.bin holding exactly vocab_size tokens\n"
    "\n"
    "overrides (applied after the preset or checkpoint; a checkpoint's weight shape\n"
    "cannot change, its seq_len and rope_theta can):\n"
    "  --dim N  --hidden-dim N  --n-layers N  --n-heads N  --n-kv-heads N\n"
    "  --vocab-size N  --seq-len N  --rope-theta N\n"
    "  --lanes N            MAC lanes of the mat-vec engine (a power of two in 1..64;\n"
    "                       default 16)\n"
    "  --group-size G       weights sharing one exponent (power of two in 4..256;\n"
    "                       default 32)\n"
    "  --kv-bits B          K/V cache mantissa bits (4..16; default 8)\n"
    "  --kv-group K         K/V elements sharing one exponent (divides head_size;\n"
    "                       default head_size)\n"
    "  --kv-ports P         K/V mantissa RAM ports: 2 = simple dual port (default),\n"
    "                       1 = single port, the form iCE40 SPRAM takes\n"
    "  --vec-lanes V        elements per cycle of the norm, quantizers and mat-vec\n"
    "                       buffer writes (power of two <= min(lanes, 16), the default;\n"
    "                       1 for the smallest decoder)\n"
    "  --embed-stream 0|1   1: read each token's embedding row from the weight stream\n"
    "                       (the shared classifier's rows) instead of an embedding ROM\n"
    "  --mul-share 0|1      1: the element-wise units and the attention time-share their\n"
    "                       multipliers (fewest DSPs, more cycles; for the iCE40 UP5K)\n"
    "  --ext-weights 0|1|2  the weights outside the chip (DRAM, flash), the image\n"
    "                       written as weights.bin: 1 the top streams them in through\n"
    "                       request / beat ports, 2 through an AXI4 read master; 0 an\n"
    "                       on-chip weight memory (default)\n"
    "\n"
    "output (emit):\n"
    "  -o DIR               created (parents too) if absent; otherwise it must be empty\n"
    "                       or a previous llamagen output (manifest.json), which is\n"
    "                       replaced as a whole; written beside DIR, then renamed\n"
    "\n"
    "eval:\n"
    "  --steps N            compare over the float model's own greedy sequence from BOS\n"
    "                       for N positions (default 512, capped at seq_len)\n"
    "  --tokens FILE        compare over this sequence instead (whitespace-separated\n"
    "                       ids, BOS first)\n"
    "  --print              per-position predictions of both models ('*' = differ)\n"
    "\n"
    "run:\n"
    "  --float              use the float32 model (llama2.c's arithmetic)\n"
    "  -n STEPS             positions to run, prompt included (default 256; 0 or more\n"
    "                       than seq_len means seq_len); stops early at BOS (id 1)\n"
    "  -t TEMP              temperature (default 1.0; 0 = greedy argmax)\n"
    "  -s SEED              sampler seed (default or 0: from the clock)\n"
    "  -i PROMPT            prompt text (default empty: start from BOS alone)\n"
    "  --tokens             print token ids instead of text: the tokens after BOS (the\n"
    "                       prompt's, then the sampled ones, exactly those the text\n"
    "                       mode prints), space separated, on one line\n"
    "  tokens per second go to stderr as \"achieved tok/s: X\"\n"
    "\n"
    "other:\n"
    "  -h, --help           this text\n"
    "  --version            the version\n"
    "\n"
    "Options take their value as the next argument; long ones also after '=' (--dim=64).\n"
    "Exit status: 0 success, 1 runtime error (bad file, bad config, unwritable\n"
    "directory), 2 usage error (unknown option or command, missing value, not built).\n";

// ---- options ----------------------------------------------------------------

typedef enum mode { MODE_EMIT, MODE_LIST, MODE_INFO, MODE_RUN, MODE_EVAL } mode;
static const char *const MODE_NAME[] = {"the emit form", "'list'", "'info'", "'run'",
                                       "'eval'"};
#define M_EMIT (1u << MODE_EMIT)
#define M_LIST (1u << MODE_LIST)
#define M_INFO (1u << MODE_INFO)
#define M_RUN (1u << MODE_RUN)
#define M_EVAL (1u << MODE_EVAL)
#define M_MODEL (M_EMIT | M_INFO | M_RUN | M_EVAL)
#define M_ALL (M_EMIT | M_LIST | M_INFO | M_RUN | M_EVAL)

typedef struct options {
    mode mode;
    const char *config;                   // --config NAME
    const char *checkpoint;               // --checkpoint F
    const char *tokenizer;                // --tokenizer T
    const char *out_dir;                  // -o DIR
    const char *overrides[LG_N_OVERRIDES]; // value per lg_override_keys entry, or NULL
    int use_float;                        // --float
    int print_tokens;                     // --tokens
    int steps;                            // -n
    float temperature;                    // -t
    const char *temp_text;                // -t as typed (integer model parses it exactly)
    const char *tokens_file;              // eval --tokens FILE
    int eval_steps;                       // eval --steps N
    int eval_print;                       // eval --print
    uint64_t seed;                        // -s (0: from the clock)
    const char *prompt;                   // -i
} options;

enum opt_id {
    OPT_HELP, OPT_VERSION, OPT_CONFIG, OPT_CHECKPOINT, OPT_TOKENIZER, OPT_OUT, OPT_FLOAT,
    OPT_TOKENS, OPT_STEPS, OPT_TEMP, OPT_SEED, OPT_PROMPT, OPT_TOKFILE, OPT_EVSTEPS, OPT_PRINT,
    OPT_OVERRIDE // + index into lg_override_keys (llamagen/checkpoint.h)
};

typedef struct optdef {
    const char *name;  // as typed: "--config", "-o"
    int takes_value;
    unsigned modes;    // M_* where the option means something
    int id;
} optdef;

static const optdef OPTS[] = {
    {"-h", 0, M_ALL, OPT_HELP},
    {"--help", 0, M_ALL, OPT_HELP},
    {"--version", 0, M_ALL, OPT_VERSION},
    {"--config", 1, M_MODEL, OPT_CONFIG},
    {"--checkpoint", 1, M_MODEL, OPT_CHECKPOINT},
    {"--tokenizer", 1, M_EMIT | M_RUN, OPT_TOKENIZER},
    {"-o", 1, M_EMIT, OPT_OUT},
    {"--float", 0, M_RUN, OPT_FLOAT},
    {"--tokens", 0, M_RUN | M_EVAL, OPT_TOKENS}, // eval: --tokens FILE (see parse_args)
    {"--steps", 1, M_EVAL, OPT_EVSTEPS},
    {"--print", 0, M_EVAL, OPT_PRINT},
    {"-n", 1, M_RUN, OPT_STEPS},
    {"-t", 1, M_RUN, OPT_TEMP},
    {"-s", 1, M_RUN, OPT_SEED},
    {"-i", 1, M_RUN, OPT_PROMPT},
};
#define N_OPTS ((int)(sizeof OPTS / sizeof OPTS[0]))

// Finds the option named by arg (up to '=' when present). Override keys are
// matched as "--" + key. Returns 0 and fills *def, or -1.
static int find_option(const char *arg, size_t len, optdef *def)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (strlen(OPTS[i].name) == len && strncmp(OPTS[i].name, arg, len) == 0) {
            *def = OPTS[i];
            return 0;
        }
    }
    if (len > 2 && strncmp(arg, "--", 2) == 0) {
        for (int k = 0; k < LG_N_OVERRIDES; k++) {
            const char *key = lg_override_keys[k];
            if (strlen(key) == len - 2 && strncmp(key, arg + 2, len - 2) == 0) {
                *def = (optdef){NULL, 1, M_MODEL, OPT_OVERRIDE + k};
                return 0;
            }
        }
    }
    return -1;
}

// Parses a decimal integer in [lo, hi] for option name.
static int parse_long(const char *name, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return fail(EXIT_USAGE, "option '%s': '%s' is not an integer in %lld..%lld", name, s, lo,
                    hi);
    *out = v;
    return 0;
}

static int parse_temperature(const char *s, float *out)
{
    // Plain decimals only (digits with at most one '.'): the integer model
    // reads the text itself (inv_temp_q16), digit by digit, so forms strtod
    // also takes ("1e-3", "0x10", " 1") would mean one temperature to the
    // float model and another to the integer one.
    int digits = 0, dots = 0, other = 0;
    for (const char *c = s; *c; c++) {
        if (*c >= '0' && *c <= '9')
            digits++;
        else if (*c == '.')
            dots++;
        else
            other++;
    }
    char *end = NULL;
    errno = 0;
    double v = (digits > 0 && dots <= 1 && other == 0) ? strtod(s, &end) : -1;
    if (v < 0 || errno || *end != '\0' || !isfinite(v) || v > 1e6)
        return fail(EXIT_USAGE,
                    "option '-t': '%s' is not a temperature (a decimal number >= 0, e.g. 0.8)", s);
    *out = (float)v;
    return 0;
}

// Whether a word is one of the options (so not the value of the one before
// it: negative numbers and other words starting with '-' are values).
static int is_option_word(const char *w)
{
    if (w[0] != '-')
        return 0;
    const char *eq = strncmp(w, "--", 2) == 0 ? strchr(w, '=') : NULL;
    optdef def;
    return find_option(w, eq ? (size_t)(eq - w) : strlen(w), &def) == 0;
}

// Result of parse_args besides an error: carry on, or stop with exit 0
// (--help, --version).
enum { PARSE_GO = -1 };

// Parses argv into o. Returns PARSE_GO, or an exit status (0 after --help /
// --version, else the error already printed).
static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 256;
    o->temperature = 1.0f;
    o->prompt = "";
    o->temp_text = "1.0";

    int i = 1;
    if (argc < 2)
        return fail(EXIT_USAGE, "nothing to do: give a command or --config NAME -o DIR "
                                "(see llamagen --help)");
    if (argv[1][0] != '-') {
        static const char *const cmds[] = {"list", "info", "run", "eval"};
        static const mode modes[] = {MODE_LIST, MODE_INFO, MODE_RUN, MODE_EVAL};
        int found = 0;
        for (int c = 0; c < 4; c++) {
            if (strcmp(argv[1], cmds[c]) == 0) {
                o->mode = modes[c];
                found = 1;
            }
        }
        if (!found)
            return fail(EXIT_USAGE, "unknown command '%s' (see llamagen --help)", argv[1]);
        i = 2;
    }

    // an option given twice is refused: which one should win ("--config 260k
    // --config 15m", "-o A -o B") is the user's to say, not ours to guess
    unsigned char seen[OPT_OVERRIDE + LG_N_OVERRIDES] = {0};
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0')
            return fail(EXIT_USAGE, "unexpected argument '%s' (see llamagen --help)", arg);
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        optdef def;
        if (find_option(arg, len, &def) != 0)
            return fail(EXIT_USAGE, "unknown option '%.*s' (see llamagen --help)", (int)len, arg);
        if ((def.id == OPT_HELP || def.id == OPT_VERSION) && eq)
            return fail(EXIT_USAGE, "option '%.*s' takes no value", (int)len, arg);
        if (def.id == OPT_HELP) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (def.id == OPT_VERSION) {
            printf("llamagen %s\n", LG_VERSION);
            return 0;
        }
        if (def.id == OPT_TOKENS && o->mode == MODE_EVAL) {
            def.id = OPT_TOKFILE; // eval's --tokens names a file of token ids
            def.takes_value = 1;
        }
        if (seen[def.id]++)
            return fail(EXIT_USAGE, "option '%.*s' given twice", (int)len, arg);
        if (!(def.modes & (1u << o->mode)))
            return fail(EXIT_USAGE, "option '%.*s' does not apply to %s (see llamagen --help)",
                        (int)len, arg, MODE_NAME[o->mode]);
        const char *val = NULL;
        if (def.takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc && (def.id == OPT_PROMPT || !is_option_word(argv[i + 1])))
                val = argv[++i]; // (a prompt is free text, whatever it looks like)
            else if (i + 1 < argc)
                // "--dim -o DIR": taking "-o" as the value would blame DIR
                return fail(EXIT_USAGE, "option '%s' needs a value (found option '%s')", arg,
                            argv[i + 1]);
            else
                return fail(EXIT_USAGE, "option '%s' needs a value", arg);
        } else if (eq) {
            return fail(EXIT_USAGE, "option '%.*s' takes no value", (int)len, arg);
        }

        // An empty file name would only come back as ": No such file or
        // directory" from the loader; say what is missing instead.
        if (val && val[0] == '\0' &&
            (def.id == OPT_CONFIG || def.id == OPT_CHECKPOINT || def.id == OPT_TOKENIZER ||
             def.id == OPT_TOKFILE || def.id == OPT_OUT))
            return fail(EXIT_USAGE, "option '%.*s' needs a value, not an empty string", (int)len,
                        arg);

        long long v = 0;
        switch (def.id) {
        case OPT_CONFIG: o->config = val; break;
        case OPT_CHECKPOINT: o->checkpoint = val; break;
        case OPT_TOKENIZER: o->tokenizer = val; break;
        case OPT_OUT: o->out_dir = val; break;
        case OPT_FLOAT: o->use_float = 1; break;
        case OPT_TOKENS: o->print_tokens = 1; break;
        case OPT_PROMPT: o->prompt = val; break;
        case OPT_STEPS:
            if (parse_long("-n", val, 0, INT32_MAX, &v))
                return EXIT_USAGE;
            o->steps = (int)v;
            break;
        case OPT_SEED:
            if (parse_long("-s", val, 0, INT64_MAX, &v))
                return EXIT_USAGE;
            o->seed = (uint64_t)v;
            break;
        case OPT_TEMP:
            if (parse_temperature(val, &o->temperature))
                return EXIT_USAGE;
            o->temp_text = val;
            break;
        case OPT_TOKFILE: o->tokens_file = val; break;
        case OPT_PRINT: o->eval_print = 1; break;
        case OPT_EVSTEPS:
            if (parse_long("--steps", val, 1, INT32_MAX, &v))
                return EXIT_USAGE;
            o->eval_steps = (int)v;
            break;
        default: // an override; its value is checked by lg_config_override
            o->overrides[def.id - OPT_OVERRIDE] = val;
            break;
        }
    }
    return PARSE_GO;
}

// ---- configuration ----------------------------------------------------------

// Builds the configuration (lg_config_build: the preset, or the
// checkpoint's header with --config's shape check, then the overrides;
// validated). w is zeroed when there is no checkpoint; the caller frees it
// either way.
static int build_config(const options *o, lg_config *cfg, lg_weights *w, lg_err *err)
{
    return lg_config_build(o->config, o->checkpoint, o->overrides, cfg, w, err);
}

// ---- output directory -------------------------------------------------------
//
// -o DIR may be absent (it is created, parents too), empty, or a previous
// llamagen output: DIR/manifest.json containing OUTDIR_MARK. Anything else is
// refused. The emitter writes into a fresh temporary directory beside DIR;
// outdir_commit renames it into place (replacing the old DIR), so a failure
// never leaves a half-written DIR behind. Usage:
//   outdir od;  outdir_begin(&od, path, &err);  ... write under od.tmp ...
//   outdir_commit(&od, &err)  or, on any failure,  outdir_abort(&od)

// What a manifest.json written by llamagen contains (the emitter must write it).
#define OUTDIR_MARK "\"generator\": \"llamagen\""

typedef struct outdir {
    char *dir;     // DIR as given, without trailing slashes
    char *parent;  // the directory holding DIR ("." for a bare name)
    char *tmp;     // the temporary sibling the emitter writes into
    char *created; // topmost parent directory outdir_begin created, or NULL
} outdir;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : -1;
}

// Removes a directory tree (symlinks are removed, not followed).
static int remove_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void outdir_free(outdir *od)
{
    free(od->dir);
    free(od->parent);
    free(od->tmp);
    free(od->created);
    memset(od, 0, sizeof *od);
}

// 1 when dir/manifest.json exists and marks a llamagen output.
static int is_llamagen_output(const char *dir)
{
    char *path = str_printf("%s/manifest.json", dir);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return 0;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, OUTDIR_MARK) != NULL;
}

// nftw callback: stops at the first directory of a tree whose entries this
// process could not remove (not writable or not searchable, or unreadable),
// naming it in unremovable.
static char unremovable[4096];
// Entries of a directory besides . and .. (-1: unreadable).
static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            entries++;
    closedir(d);
    return entries;
}

static int note_unremovable(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    // (an empty directory goes with its parent's permission alone)
    if (flag == FTW_DNR ||
        (flag == FTW_D && access(path, W_OK | X_OK) != 0 && dir_entries(path) != 0)) {
        snprintf(unremovable, sizeof unremovable, "%s", path);
        return 1;
    }
    return 0;
}

// Checks that an existing DIR is empty or a previous llamagen output that
// can be removed once the new one is in place (else the old files would be
// left beside it under a hidden name).
static int check_existing(const char *dir, lg_err *err)
{
    int entries = dir_entries(dir);
    if (entries < 0)
        return lg_fail(err, "cannot read output directory %s: %s", dir, strerror(errno));
    if (entries > 0 && !is_llamagen_output(dir))
        return lg_fail(err, "output directory %s holds other files; refusing to overwrite", dir);
    if (entries > 0 && nftw(dir, note_unremovable, 16, FTW_PHYS) != 0)
        return lg_fail(err,
                       "cannot replace output directory %s: %s is not writable, so its files "
                       "could not be removed",
                       dir, unremovable[0] ? unremovable : dir);
    return 0;
}

// mkdir -p path; remembers the topmost directory it made in od->created.
static int make_parents(outdir *od, const char *path, lg_err *err)
{
    char *p = str_printf("%s", path);
    if (!p)
        return lg_fail(err, "out of memory");
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) == 0) {
            if (!od->created && !(od->created = str_printf("%s", p)))
                rc = lg_fail(err, "out of memory");
        } else if (errno != EEXIST) {
            rc = lg_fail(err, "cannot write output directory %s: %s", od->dir, strerror(errno));
        }
        *s = c;
        if (rc || c == '\0')
            break;
    }
    free(p);
    return rc;
}

// Undoes make_parents: removes the (empty) directories it created.
static void remove_parents(outdir *od)
{
    if (!od->created || !od->parent)
        return;
    char *p = od->parent;
    for (;;) {
        rmdir(p);
        char *slash = strrchr(p, '/');
        if (strcmp(p, od->created) == 0 || !slash || slash == p)
            break;
        *slash = '\0'; // p is od->parent, which is freed next anyway
    }
}

static int outdir_begin(outdir *od, const char *path, lg_err *err)
{
    memset(od, 0, sizeof *od);
    size_t len = strlen(path);
    if (len == 0)
        return lg_fail(err, "the output directory name is empty");
    while (len > 1 && path[len - 1] == '/')
        len--;
    od->dir = str_printf("%.*s", (int)len, path);
    if (!od->dir)
        return lg_fail(err, "out of memory");
    const char *slash = strrchr(od->dir, '/');
    const char *base = slash ? slash + 1 : od->dir;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        lg_fail(err, "output directory '%s' cannot be replaced; name a directory below it", path);
        goto fail;
    }
    od->parent = slash == od->dir    ? str_printf("/")
                 : slash             ? str_printf("%.*s", (int)(slash - od->dir), od->dir)
                                     : str_printf(".");
    if (!od->parent) {
        lg_fail(err, "out of memory");
        goto fail;
    }

    struct stat st;
    if (lstat(od->dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            lg_fail(err, "output directory %s exists and is not a directory; refusing to overwrite",
                    od->dir);
            goto fail;
        }
        if (check_existing(od->dir, err))
            goto fail;
    } else if (errno != ENOENT) {
        lg_fail(err, "cannot write output directory %s: %s", od->dir, strerror(errno));
        goto fail;
    } else if (make_parents(od, od->parent, err)) {
        goto fail;
    }

    od->tmp = str_printf("%s/.%.200s.llamagen-tmp.XXXXXX", od->parent, base); // (NAME_MAX)
    if (!od->tmp) {
        lg_fail(err, "out of memory");
        goto fail;
    }
    if (!mkdtemp(od->tmp)) {
        lg_fail(err, "cannot write output directory %s: %s", od->dir, strerror(errno));
        free(od->tmp);
        od->tmp = NULL;
        goto fail;
    }
    mode_t mask = umask(0); // mkdtemp makes 0700; give DIR the usual mode
    umask(mask);
    chmod(od->tmp, 0777 & ~mask);
    return 0;

fail:
    remove_parents(od);
    outdir_free(od);
    return -1;
}

// An emission interrupted by a signal (Ctrl-C, a kill, a closed terminal)
// would leave its temporary directory beside DIR: gigabytes of hex for the
// big presets, where emission takes minutes. While it writes, SIGINT, SIGTERM
// and SIGHUP remove that tree first, then end the process as the signal
// would. The handler uses only async-signal-safe calls (fork, execve,
// waitpid, sigaction, raise): rm -rf from a child, on an argv made before.
static char *cleanup_argv[5];          // {"rm", "-rf", "--", tmp, NULL} while writing
static volatile sig_atomic_t cleanup_on;
static const int cleanup_sigs[] = {SIGINT, SIGTERM, SIGHUP};

static void on_stop_signal(int sig)
{
    if (cleanup_on) {
        static char *const no_env[] = {NULL};
        pid_t pid = fork();
        if (pid == 0) {
            execve("/bin/rm", cleanup_argv, no_env);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    static struct sigaction dfl; // zero: SIG_DFL, no flags
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void outdir_guard(const outdir *od, int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_stop_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    if (on) {
        cleanup_argv[0] = "rm";
        cleanup_argv[1] = "-rf";
        cleanup_argv[2] = "--";
        cleanup_argv[3] = od->tmp;
        cleanup_argv[4] = NULL;
    }
    cleanup_on = on;
    for (size_t i = 0; i < sizeof cleanup_sigs / sizeof cleanup_sigs[0]; i++) {
        struct sigaction was;
        // a signal the shell set to be ignored (nohup, a background job's
        // SIGINT) stays ignored
        if (sigaction(cleanup_sigs[i], NULL, &was) == 0 && was.sa_handler == SIG_IGN)
            continue;
        sigaction(cleanup_sigs[i], &sa, NULL);
    }
}

// Discards everything written so far (safe to call after a failed begin).
static void outdir_abort(outdir *od)
{
    if (od->tmp)
        remove_tree(od->tmp);
    remove_parents(od);
    outdir_free(od);
}

// Moves the finished temporary directory to DIR, replacing the old one.
static int outdir_commit(outdir *od, lg_err *err)
{
    char *old = NULL;
    struct stat st;
    if (lstat(od->dir, &st) == 0) {
        // Move the old DIR onto a fresh empty name (rename may replace an
        // empty directory), then the new one in, then delete the old.
        const char *slash = strrchr(od->dir, '/');
        old = str_printf("%s/.%.200s.llamagen-old.XXXXXX", od->parent, slash ? slash + 1 : od->dir);
        if (!old || !mkdtemp(old) || rename(od->dir, old) != 0) {
            lg_fail(err, "cannot replace output directory %s: %s", od->dir,
                    old ? strerror(errno) : "out of memory");
            if (old)
                rmdir(old);
            free(old);
            outdir_abort(od);
            return -1;
        }
    }
    if (rename(od->tmp, od->dir) != 0) {
        lg_fail(err, "cannot write output directory %s: %s", od->dir, strerror(errno));
        if (old)
            rename(old, od->dir);
        free(old);
        outdir_abort(od);
        return -1;
    }
    // DIR is whole; an old tree that will not go (check_existing found it
    // removable: a race) is reported, not an error
    if (old && remove_tree(old) != 0)
        fprintf(stderr, "llamagen: warning: the previous %s, moved to %s, could not be removed: %s\n",
                od->dir, old, strerror(errno));
    free(old);
    free(od->created); // DIR now lives in the parents made; keep them
    od->created = NULL;
    outdir_free(od);
    return 0;
}

// ---- list -------------------------------------------------------------------

static int cmd_list(void)
{
    printf("%-16s %6s %7s %6s %5s %8s %7s %7s  %s\n", "name", "dim", "hidden", "layers", "heads",
           "kv_heads", "vocab", "seq_len", "description");
    for (int i = 0; i < lg_config_preset_count(); i++) {
        lg_config c;
        lg_err err;
        if (lg_config_preset(lg_config_preset_name(i), &c, &err))
            return report(EXIT_RUNTIME, &err);
        printf("%-16s %6d %7d %6d %5d %8d %7d %7d  %s\n", c.name, c.m.dim, c.m.hidden_dim,
               c.m.n_layers, c.m.n_heads, c.m.n_kv_heads, c.m.vocab_size, c.m.seq_len,
               lg_config_preset_desc(i));
    }
    return 0;
}

// ---- info -------------------------------------------------------------------

// One aligned "key: value" line.
static void kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kv(const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int pad = 24 - (int)strlen(key);
    printf("%s:%*s", key, pad > 1 ? pad : 1, "");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

// "1234567 (1.23 M)" or, for bytes, "1234567 (1.18 MiB)"; plain below 1000.
static const char *human(char *buf, size_t n, uint64_t v, int bytes)
{
    static const char *const dec[] = {"", "K", "M", "G", "T", "P"};
    static const char *const bin[] = {"", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double base = bytes ? 1024.0 : 1000.0, x = (double)v;
    int u = 0;
    while (x >= base && u < 5) {
        x /= base;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%llu", (unsigned long long)v);
    else
        snprintf(buf, n, "%llu (%.2f %s)", (unsigned long long)v, x, bytes ? bin[u] : dec[u]);
    return buf;
}

// The generator holds the whole model in memory while it quantizes it (the
// float weights, 4 bytes each, and a copy of Wq and Wk, which the quantizer
// smooths; the quantized model and the weight image, a byte a weight and an
// exponent byte a group each) and writes the image in one piece (on-chip hex
// or --ext-weights' weights.bin): past 2^31 weights (~13 GB at that peak;
// Llama-2-7B would need ~45 GB) a config is refused before anything is
// allocated or written, and below it when the estimate exceeds 3/4 of this
// machine's memory or the address-space limit.
#define EMIT_MAX_PARAMS (UINT64_C(1) << 31)
// ... and K/V caches up to 1 GiB (110m at 32k positions: 0.57 GiB)
#define EMIT_MAX_KV_BYTES (UINT64_C(1) << 30)

// The peak estimate above, in bytes.
static uint64_t emit_peak_bytes(const lg_config *cfg, const lg_config_stats *st)
{
    const lg_model_config *m = &cfg->m;
    uint64_t q = st->params + st->params / (uint64_t)cfg->hw.group_size;
    uint64_t qk = (uint64_t)m->n_layers * (uint64_t)m->dim * (uint64_t)(m->dim + lg_kv_dim(m));
    return 4 * (st->params + qk) + 2 * q + st->kv_bytes_per_pos * (uint64_t)m->seq_len;
}

// The memory an emission may use, in bytes (0: unknown): 3/4 of the
// physical memory, or the process's address-space limit (ulimit -v) when
// lower; *what names the bound.
static uint64_t usable_bytes(const char **what)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t b = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 4 * 3 : 0;
    *what = "3/4 of this machine's memory";
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (b == 0 || (uint64_t)rl.rlim_cur < b)) {
        b = (uint64_t)rl.rlim_cur;
        *what = "this process's address-space limit";
    }
    return b;
}

// 0, or (err set) -2 past the weight limit or this machine's memory, -1 past
// the K/V limit.
static int emit_size_check(const lg_config *cfg, lg_err *err)
{
    lg_config_stats st;
    lg_config_stats_compute(cfg, &st);
    const char *bound;
    uint64_t peak = emit_peak_bytes(cfg, &st), mem = usable_bytes(&bound);
    if (st.params > EMIT_MAX_PARAMS)
        return 2 * lg_fail(err,
                       "%s has %.2f G weights: the generator quantizes a model in memory, up "
                       "to %.2f G weights (this one would need ~%.0f GB; quantizing piece by "
                       "piece is not implemented)",
                       cfg->name, (double)st.params / 1e9, (double)EMIT_MAX_PARAMS / 1e9,
                       (double)peak / 1e9);
    if (mem && peak > mem)
        return 2 * lg_fail(err,
                       "%s needs ~%.1f GB of memory to quantize and emit (float weights, "
                       "quantized model, image): more than %s, %.1f GB",
                       cfg->name, (double)peak / 1e9, bound, (double)mem / 1e9);
    uint64_t kv = st.kv_bytes_per_pos * (uint64_t)cfg->m.seq_len;
    if (kv > EMIT_MAX_KV_BYTES)
        return lg_fail(err,
                       "%s at seq_len %d has a %.2f GiB K/V cache: emitted decoders hold it on "
                       "chip, up to %.0f GiB (a shorter --seq-len fits)",
                       cfg->name, (int)cfg->m.seq_len, (double)kv / (1 << 30),
                       (double)EMIT_MAX_KV_BYTES / (1 << 30));
    return 0;
}

static int cmd_info(const options *o)
{
    if (!o->config && !o->checkpoint)
        return fail(EXIT_USAGE, "info needs --config NAME or --checkpoint F");
    lg_config cfg;
    lg_err err;
    // the shape is all info prints: a checkpoint's header only (its size
    // checked), not gigabytes of weights
    int rc = build_config(o, &cfg, NULL, &err);
    if (rc)
        return report(EXIT_RUNTIME, &err);

    const lg_model_config *m = &cfg.m;
    lg_config_stats st;
    lg_config_stats_compute(&cfg, &st);
    char b[64];
    const char *desc = NULL;
    for (int i = 0; i < lg_config_preset_count(); i++)
        if (strcmp(cfg.name, lg_config_preset_name(i)) == 0)
            desc = lg_config_preset_desc(i);
    kv("config", "%s%s%s%s", cfg.name, desc ? " (" : "", desc ? desc : "", desc ? ")" : "");
    if (o->checkpoint)
        kv("checkpoint", "%s", o->checkpoint);
    kv("dim", "%d", m->dim);
    kv("hidden_dim", "%d", m->hidden_dim);
    kv("n_layers", "%d", m->n_layers);
    kv("n_heads", "%d", m->n_heads);
    kv("n_kv_heads", "%d", m->n_kv_heads);
    kv("head_size", "%d", lg_head_size(m));
    kv("kv_dim", "%d", lg_kv_dim(m));
    kv("vocab_size", "%d", m->vocab_size);
    kv("seq_len", "%d", m->seq_len);
    kv("rope_theta", "%u", m->rope_theta);
    kv("norm_eps", "%g", m->norm_eps_e9 * 1e-9);
    kv("classifier", "%s", m->shared_classifier ? "shared with the token embedding" : "separate");
    kv("parameters", "%s", human(b, sizeof b, st.params, 0));
    kv("weight bytes", "%s  int8 + 1 exponent byte per %d weights",
       human(b, sizeof b, st.weight_bytes, 1), cfg.hw.group_size);
    kv("kv bytes per position", "%s", human(b, sizeof b, st.kv_bytes_per_pos, 1));
    kv("kv bytes at seq_len", "%s",
       human(b, sizeof b, st.kv_bytes_per_pos * (uint64_t)m->seq_len, 1));
    kv("weight MACs per token", "%s", human(b, sizeof b, st.weight_macs, 0));
    kv("attn MACs at pos 0", "%s", human(b, sizeof b, st.attn_macs_pos0, 0));
    char key[48];
    snprintf(key, sizeof key, "attn MACs at pos %d", m->seq_len - 1);
    kv(key, "%s", human(b, sizeof b, st.attn_macs_last, 0));
    kv("lanes", "%d", cfg.hw.lanes);
    kv("group_size", "%d", cfg.hw.group_size);
    kv("kv_bits", "%d", cfg.hw.kv_bits);
    kv("kv_group", "%d", cfg.hw.kv_group);
    kv("kv_ports", "%d", cfg.hw.kv_ports);
    kv("vec_lanes", "%d", lg_decoder_vec_lanes(&cfg));
    kv("embed_stream", "%d", cfg.hw.embed_stream);
    kv("mul_share", "%d", cfg.hw.mul_share);
    kv("ext_weights", "%d", cfg.hw.ext_weights);
    // the emitted decoder's cycle model, as its manifest.json and README
    // state it (on-chip weights, every stream ready)
    int64_t c0 = lg_decoder_cycles(&cfg, 0), cl = lg_decoder_cycles(&cfg, m->seq_len - 1);
    int size_rc = emit_size_check(&cfg, NULL); // -2 weights, -1 K/V, 0 emitted
    kv("cycles per token", "%lld at pos 0, %lld at pos %d (lg_decoder_cycles: no stream ever waits%s)",
       (long long)c0, (long long)cl, m->seq_len - 1,
       size_rc == -2   ? "; not emitted: past the generator's 2.15 G weight limit or this machine's memory"
       : size_rc == -1 ? "; not emitted: past the on-chip K/V limit"
                       : "");
    kv("lane utilization", "%.3f at pos 0, %.3f at pos %d",
       (double)(st.weight_macs + st.attn_macs_pos0) / cfg.hw.lanes / (double)c0,
       (double)(st.weight_macs + st.attn_macs_last) / cfg.hw.lanes / (double)cl, m->seq_len - 1);
    return 0;
}

// ---- generation -------------------------------------------------------------

// A language model as the generation loop sees it. The float model plugs in
// below; the integer model plugs in the same way.
typedef struct lm {
    void *self;
    int vocab_size;
    // Runs token at pos (0 <= pos < seq_len); returns the logits, owned by
    // the model, or NULL with err set.
    void *(*forward)(void *self, int token, int pos, lg_err *err);
    // Picks the next token from the logits forward just returned.
    int (*sample)(void *self, void *logits);
} lm;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// llama2.c's generate(): feeds the prompt (BOS first), then samples, for
// steps positions or until BOS comes out. Prints each token after BOS as text
// (or its id with print_tokens) as it is produced.
static int generate(const lm *model, const lg_tokenizer *t, const char *prompt, int steps,
                    int print_tokens, lg_err *err)
{
    int *tokens = lg_calloc(strlen(prompt) + 3, sizeof *tokens, err); // (strlen(prompt)+3)
    if (!tokens)
        return -1;
    int n_prompt = 0;
    if (lg_tokenizer_encode(t, prompt, 1, 0, tokens, &n_prompt, err)) {
        free(tokens);
        return -1;
    }

    double start = 0;
    int token = tokens[0], pos = 0, rc = 0;
    while (pos < steps) {
        void *logits = model->forward(model->self, token, pos, err);
        if (!logits) {
            rc = -1;
            break;
        }
        int next = pos < n_prompt - 1 ? tokens[pos + 1] : model->sample(model->self, logits);
        if (next < 0 || next >= model->vocab_size) {
            rc = lg_fail(err, "model produced token %d outside 0..%d", next, model->vocab_size - 1);
            break;
        }
        pos++;
        if (next == 1) // BOS delimits sequences
            break;
        if (print_tokens)
            printf("%s%d", pos > 1 ? " " : "", next);
        else
            lg_tokenizer_print_piece(stdout, lg_tokenizer_decode(t, token, next));
        fflush(stdout);
        token = next;
        if (start == 0)
            start = now_seconds(); // after the first position, as llama2.c
    }
    if (rc == 0 || pos > 0)
        putchar('\n'); // (a failure before any text prints nothing on stdout)
    free(tokens);
    if (fflush(stdout) != 0 || ferror(stdout))
        return rc ? rc : lg_fail(err, "writing the output: %s", strerror(errno));
    double elapsed = now_seconds() - start;
    if (rc == 0 && pos > 1 && elapsed > 0)
        fprintf(stderr, "achieved tok/s: %f\n", (pos - 1) / elapsed);
    return rc;
}

// The float32 model (llama2.c's arithmetic) behind the lm interface.
typedef struct float_lm {
    lg_float_model fm;
    lg_float_sampler sampler;
} float_lm;

static void *float_forward(void *self, int token, int pos, lg_err *err)
{
    return lg_float_forward_checked(&((float_lm *)self)->fm, token, pos, err);
}

static int float_sample(void *self, void *logits)
{
    float_lm *f = self;
    return lg_float_sample(&f->sampler, logits, f->fm.cfg.vocab_size);
}

// The bit-exact integer model behind the same interface.
typedef struct int_lm {
    lg_qmodel qm;
    lg_ref_model rm;
    uint32_t inv_temp; // 1/T in Q16, 0 = greedy
    uint32_t state;    // xorshift32 state
} int_lm;

static void *int_forward(void *self, int token, int pos, lg_err *err)
{
    return (void *)lg_ref_forward(&((int_lm *)self)->rm, token, pos);
}

static int int_sample(void *self, void *logits)
{
    int_lm *m = self;
    return lg_ref_sample(logits, m->qm.cfg.m.vocab_size, m->inv_temp, &m->state, &m->qm.luts);
}

// Decimal temperature -> 1/T in Q16 with integer arithmetic only, so the
// integer model's draw does not depend on a float parse: "0.8" = 8/10 ->
// round(65536 * 10 / 8). 0 means greedy. Clamped to 2^24-1 (T >= 1/256).
static uint32_t inv_temp_q16(const char *text)
{
    uint64_t num = 0, den = 1;
    int frac = 0;
    for (const char *c = text; *c; c++) {
        if (*c == '.') {
            frac = 1;
            continue;
        }
        if (*c < '0' || *c > '9' || num > 1000000000000ull || den > 1000000000000ull)
            break; // exponent forms etc.: keep the digits read so far
        num = num * 10 + (uint64_t)(*c - '0');
        if (frac)
            den *= 10;
    }
    if (num == 0)
        return 0;
    uint64_t v = (65536 * den + num / 2) / num;
    return v > 0xffffff ? 0xffffff : (v == 0 ? 1 : (uint32_t)v);
}

static int int_lm_init(int_lm *m, const lg_config *cfg, const lg_weights *w, lg_err *err)
{
    lg_quant_opts qo;
    lg_quant_opts_default(&qo);
    memset(m, 0, sizeof *m);
    if (lg_quantize_model(&m->qm, cfg, w, &qo, err))
        return -1;
    if (lg_ref_model_init(&m->rm, &m->qm, err)) {
        lg_qmodel_free(&m->qm);
        return -1;
    }
    return 0;
}

static void int_lm_free(int_lm *m)
{
    lg_ref_model_free(&m->rm);
    lg_qmodel_free(&m->qm);
}

// ---- run --------------------------------------------------------------------

static int cmd_run(const options *o)
{
    if (!o->checkpoint)
        return fail(EXIT_USAGE, "run needs --checkpoint F");
    if (!o->tokenizer)
        return fail(EXIT_USAGE, "run needs --tokenizer T");

    lg_config cfg;
    lg_weights w;
    lg_tokenizer tok = {0};
    float_lm flm = {0};
    int_lm ilm;
    memset(&ilm, 0, sizeof ilm);
    lg_err err;
    int rc = build_config(o, &cfg, &w, &err) ||
             lg_tokenizer_load(o->tokenizer, cfg.m.vocab_size, &tok, &err) ||
             (o->use_float ? lg_float_model_init(&flm.fm, &cfg.m, &w, &err)
                           : int_lm_init(&ilm, &cfg, &w, &err));
    if (rc == 0) {
        uint64_t seed = o->seed ? o->seed : (uint64_t)time(NULL);
        flm.sampler.temperature = o->temperature;
        flm.sampler.rng_state = seed;
        ilm.inv_temp = inv_temp_q16(o->temp_text);
        ilm.state = lg_sampler_seed(lg_seed_state(seed)); // (as lgtok.py --seed)
        lm model = o->use_float ? (lm){&flm, cfg.m.vocab_size, float_forward, float_sample}
                                : (lm){&ilm, cfg.m.vocab_size, int_forward, int_sample};
        int steps = (o->steps == 0 || o->steps > cfg.m.seq_len) ? cfg.m.seq_len : o->steps;
        rc = generate(&model, &tok, o->prompt, steps, o->print_tokens, &err);
    }
    lg_float_model_free(&flm.fm);
    int_lm_free(&ilm);
    lg_tokenizer_free(&tok);
    lg_weights_free(&w);
    return rc ? report(EXIT_RUNTIME, &err) : 0;
}

// ---- eval -------------------------------------------------------------------

// Reads whitespace-separated token ids (the teacher sequence, BOS first).
static int read_tokens(const char *path, int vocab, int **out, int *n, lg_err *err)
{
    // a regular file only, as the checkpoint and tokenizer: fopen on a FIFO
    // blocks forever, a directory read only fails as "not a list"
    uint64_t bytes;
    FILE *f = lg_open_regular(path, "file of token ids", &bytes, err);
    if (!f)
        return -1;
    int cap = 1024, cnt = 0, *v = malloc((size_t)cap * sizeof *v);
    // word by word (any length: a fixed-width fscanf("%31s") split a longer
    // word into two ids), each parsed with strtoll
    char word[32];
    int c = 0;
    while (v) {
        while ((c = getc(f)) != EOF && isspace(c))
            ;
        if (c == EOF)
            break;
        size_t len = 0;
        int nul = 0;
        for (; c != EOF && !isspace(c); c = getc(f)) {
            if (c == '\0')
                nul = 1;
            if (len < sizeof word - 1)
                word[len] = (char)c;
            len++;
        }
        word[len < sizeof word - 1 ? len : sizeof word - 1] = '\0';
        char *end;
        errno = 0;
        long long x = nul ? 0 : strtoll(word, &end, 10);
        if (nul || len >= sizeof word || end == word || *end != '\0') {
            fclose(f);
            free(v);
            return nul ? lg_fail(err, "%s: a NUL byte where a token id should be (not a text "
                                      "file of token ids)", path)
                       : lg_fail(err, "%s: '%s%s' is not a token id", path, word,
                                 len >= sizeof word ? "..." : "");
        }
        if (errno == ERANGE || x < 0 || x >= vocab) {
            fclose(f);
            free(v);
            return lg_fail(err, "%s: token id %s outside 0..%d", path, word, vocab - 1);
        }
        if (cnt == cap) {
            int *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
        }
        v[cnt++] = (int)x;
    }
    int bad = v && ferror(f);
    fclose(f);
    if (!v)
        return lg_fail(err, "out of memory reading %s", path);
    if (bad || cnt < 2) {
        free(v);
        return lg_fail(err, "%s: %s", path, bad ? "read error" : "needs at least two token ids");
    }
    // the models (and the decoder's host) start every sequence at BOS: a
    // sequence without it is a context neither model was run in
    if (v[0] != 1) {
        int first = v[0];
        free(v);
        return lg_fail(err, "%s: the sequence starts with token %d, not BOS (1)", path, first);
    }
    *out = v;
    *n = cnt;
    return 0;
}

static int cmd_eval(const options *o)
{
    if (!o->checkpoint)
        return fail(EXIT_USAGE, "eval needs --checkpoint F");
    if (o->tokens_file && o->eval_steps)
        return fail(EXIT_USAGE, "eval takes --tokens FILE or --steps N, not both");
    lg_config cfg;
    lg_weights w;
    lg_qmodel qm;
    lg_quant_opts qo;
    lg_eval_result res;
    lg_err err;
    int *toks = NULL, ntok = 0, rc;
    memset(&qm, 0, sizeof qm);
    memset(&res, 0, sizeof res);
    lg_quant_opts_default(&qo);
    rc = build_config(o, &cfg, &w, &err);
    if (rc) {
        lg_weights_free(&w);
        return report(EXIT_RUNTIME, &err);
    }
    int steps = o->eval_steps ? o->eval_steps : 512;
    if (o->tokens_file) {
        rc = read_tokens(o->tokens_file, cfg.m.vocab_size, &toks, &ntok, &err);
        steps = ntok - 1;
    }
    if (steps > cfg.m.seq_len)
        steps = cfg.m.seq_len;
    double t0 = now_seconds();
    if (!rc)
        rc = lg_quantize_model(&qm, &cfg, &w, &qo, &err) ||
             lg_eval_run(&qm, &w, toks, steps, &res, &err);
    if (!rc) {
        if (o->eval_print) {
            printf("pos  input  float  int\n");
            for (int p = 0; p < res.steps; p++)
                printf("%4d %6d %6d %6d%s\n", p, res.tokens[p], res.float_pred[p],
                       res.int_pred[p], res.float_pred[p] != res.int_pred[p] ? "  *" : "");
        }
        printf("steps:               %d\n", res.steps);
        printf("top-1 agreement:     %d/%d (%.2f%%)\n", res.agree, res.steps,
               100.0 * res.agree / res.steps);
        printf("mean |logit error|:  %.4f\n", res.mean_abs_err);
        printf("max |logit error|:   %.4f\n", res.max_abs_err);
        if (res.diverge_at < 0)
            printf("free-running greedy: identical for all %d positions\n", res.steps);
        else
            printf("free-running greedy: first differs at position %d\n", res.diverge_at);
        printf("config:              %s lanes=%d group=%d kv_bits=%d kv_group=%d smooth_k=%d\n",
               cfg.name, cfg.hw.lanes, cfg.hw.group_size, cfg.hw.kv_bits, cfg.hw.kv_group,
               qo.smooth_k);
        fprintf(stderr, "eval took %.1f s\n", now_seconds() - t0);
    }
    lg_eval_result_free(&res);
    lg_qmodel_free(&qm);
    free(toks);
    lg_weights_free(&w);
    return rc ? report(EXIT_RUNTIME, &err) : 0;
}

// ---- emit -------------------------------------------------------------------

// Writes the decoder for cfg into dir (the temporary directory of an outdir).
// w and t may be NULL (no checkpoint / tokenizer). Returns 0, or an exit
// status with err set.
// The command line, for the emitted banners' regenerate command.
static int g_argc;
static char **g_argv;

// Appends s to buf (size n, holding *len bytes); -1 when it does not fit.
static int append(char *buf, size_t n, size_t *len, const char *s)
{
    size_t k = strlen(s);
    if (*len + k >= n)
        return -1;
    memcpy(buf + *len, s, k + 1);
    *len += k;
    return 0;
}

// argv as one shell command: arguments space separated, each quoted ('...',
// a ' as '\'') unless it is all plain characters. -1 when it exceeds n.
static int join_command(char *buf, size_t n, int argc, char **argv)
{
    static const char PLAIN[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%";
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a && strspn(a, PLAIN) == strlen(a);
        if ((i && append(buf, n, &len, " ")) || (!plain && append(buf, n, &len, "'")))
            return -1;
        for (const char *c = a; *c; c++) {
            char one[2] = {*c, '\0'};
            if (append(buf, n, &len, *c == '\'' ? "'\\''" : one))
                return -1;
        }
        if (!plain && append(buf, n, &len, "'"))
            return -1;
    }
    return 0;
}

static int emit_decoder(const char *dir, const lg_config *cfg, const lg_weights *w,
                        const lg_tokenizer *t, lg_err *err)
{
    // The regenerate command for the banners: this process's own command
    // line (else, past 4 KB, the config it amounts to).
    char cmd[4096];
    if (g_argc == 0 || join_command(cmd, sizeof cmd, g_argc, g_argv))
        snprintf(cmd, sizeof cmd, "llamagen --config %.32s%s -o DIR", cfg->name,
                 w ? " --checkpoint F" : "");

    lg_qmodel qm;
    if (lg_decoder_qmodel(&qm, cfg, w, err))
        return EXIT_RUNTIME;
    char src[96];
    if (w)
        snprintf(src, sizeof src, "checkpoint (see the command)");
    else
        snprintf(src, sizeof src, "synthetic (lg_weights_synthetic seed %d)",
                 LG_DECODER_SYNTH_SEED);
    lg_decoder_opts o = {cmd, src, t};
    int rc = lg_emit_decoder(dir, &qm, &o, err);
    lg_qmodel_free(&qm);
    return rc ? EXIT_RUNTIME : 0;
}

// Shapes lg_config_validate accepts (the C models run them) but whose
// emitted RTL the templates cannot elaborate or lint cleanly; refused up
// front, before the output directory is touched, so that every accepted
// config emits RTL that passes `verilator --lint-only -Wall`. Each test
// mirrors the template expression it protects; lift it when the emitter or
// the template handles the shape. (Short vectors with many vector lanes, once
// a negative replication in lg_rmsnorm.v, and wide heads, once a replication
// over Verilator's 8192-bit limit in lg_attention.v, are handled there now.)
static int emit_shape_check(const lg_config *cfg, lg_err *err)
{
    const lg_model_config *m = &cfg->m;
    // lg_decoder.v / lg_vecbuf.v address the hidden buffer with
    // $clog2(HID) bits: 0 bits (a [-1:0] range, a zero replication) at 1.
    if (m->hidden_dim < 2)
        return lg_fail(err, "invalid config for emission: hidden_dim = %d must be at least 2",
                       m->hidden_dim);
    return 0;
}

static int cmd_emit(const options *o)
{
    if (!o->config && !o->checkpoint)
        return fail(EXIT_USAGE, "nothing to emit: give --config NAME or --checkpoint F "
                                "(see llamagen --help)");
    if (!o->out_dir)
        return fail(EXIT_USAGE, "the emit form needs -o DIR");

    lg_config cfg;
    lg_weights w;
    lg_tokenizer tok = {0};
    lg_err err;
    outdir od;
    int status = EXIT_RUNTIME;
    memset(&w, 0, sizeof w);
    // the shape first (a checkpoint's header only): a decoder too large to
    // emit is refused before gigabytes of weights are read
    if (build_config(o, &cfg, NULL, &err) == 0 && emit_size_check(&cfg, &err) == 0 &&
        emit_shape_check(&cfg, &err) == 0 && build_config(o, &cfg, &w, &err) == 0 &&
        (!o->tokenizer || lg_tokenizer_load(o->tokenizer, cfg.m.vocab_size, &tok, &err) == 0) &&
        outdir_begin(&od, o->out_dir, &err) == 0) {
        outdir_guard(&od, 1);
        status = emit_decoder(od.tmp, &cfg, o->checkpoint ? &w : NULL, o->tokenizer ? &tok : NULL,
                              &err);
        // (not while renaming into place: a signal then ends the process
        // as before, with the old or the new DIR whole)
        outdir_guard(&od, 0);
        if (status)
            outdir_abort(&od);
        else if (outdir_commit(&od, &err))
            status = EXIT_RUNTIME;
    }
    lg_tokenizer_free(&tok);
    lg_weights_free(&w);
    return status ? report(status, &err) : 0;
}

// ---- main -------------------------------------------------------------------

int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc == PARSE_GO) {
        switch (o.mode) {
        case MODE_LIST: rc = cmd_list(); break;
        case MODE_INFO: rc = cmd_info(&o); break;
        case MODE_RUN: rc = cmd_run(&o); break;
        case MODE_EMIT: rc = cmd_emit(&o); break;
        case MODE_EVAL: rc = cmd_eval(&o); break;
        default: rc = EXIT_USAGE; break;
        }
    }
    // list, info, eval, --help and --version print on stdout: a full disk
    // or closed pipe must not end in exit 0 with the output cut short
    // (run reports its own write error; this adds no second line)
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        return fail(EXIT_RUNTIME, "writing the output: %s", strerror(errno));
    return rc;
}
