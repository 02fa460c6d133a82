// RTL emitter machinery (include/llamagen/emit.h): embedded templates,
// ${NAME} substitution, do-not-edit banners, $readmemh images.
//
// Rules the emitter enforces (so generated RTL cannot silently drift from the
// generator):
//  - a placeholder the caller did not supply is an error, and so is a value
//    the template never uses (a typo in either place fails loudly);
//  - lg_emit_module supplies ${MODULE} = module when the caller does not, and
//    a template must use it: the file <module>.v then always holds module
//    <module> (one module per file, named after the module);
//  - the same file emitted twice through one context must have the same
//    content (two configurations meeting under one module name is exactly
//    the clash that names with baked-in constants prevent);
//  - output is byte-deterministic: no dates, no host paths beyond what the
//    caller's command line says;
//  - ctx->files lists each written file once, as a name relative to outdir.
#include "llamagen/emit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- embedded templates -------------------------------------------------------

// Defined in the generated $(BUILD)/gen/templates.c (tools/embed_templates.sh).
struct lg_template_entry {
    const char *name; // template name: file name without .v
    const char *text; // NUL-terminated template text
};
extern const struct lg_template_entry lg_template_table[];
extern const int lg_template_count;

const char *lg_template_get(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < lg_template_count; i++)
        if (strcmp(lg_template_table[i].name, name) == 0)
            return lg_template_table[i].text;
    return NULL;
}

// ---- growable text buffer ------------------------------------------------------

typedef struct strbuf {
    char *s;    // (cap) NUL-terminated once len > 0
    size_t len; // bytes used, without the NUL
    size_t cap;
} strbuf;

static int sb_put(strbuf *b, const char *s, size_t n, lg_err *err)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return lg_fail(err, "out of memory (%zu bytes of emitted text)", cap);
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int sb_str(strbuf *b, const char *s, lg_err *err)
{
    return sb_put(b, s, strlen(s), err);
}

// Appends s with line breaks turned into spaces (banner lines stay comments).
static int sb_line(strbuf *b, const char *s, lg_err *err)
{
    for (; *s; s++) {
        char c = (*s == '\n' || *s == '\r') ? ' ' : *s;
        if (sb_put(b, &c, 1, err))
            return -1;
    }
    return 0;
}

// ---- substitution ---------------------------------------------------------------

static int is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_ident(const char *s)
{
    if (!s || !is_ident_start(*s))
        return 0;
    for (s++; *s; s++)
        if (!is_ident_char(*s))
            return 0;
    return 1;
}

// Renders template text `text` (named `name` in messages).
static int render_text(const char *name, const char *text, const lg_subst *vars, int nvars,
                       char **out, lg_err *err)
{
    *out = NULL;
    if (nvars < 0 || (nvars > 0 && !vars))
        return lg_fail(err, "template %s: bad substitution list", name);
    for (int i = 0; i < nvars; i++) {
        if (!is_ident(vars[i].name))
            return lg_fail(err, "template %s: value name '%s' is not an identifier", name,
                           vars[i].name ? vars[i].name : "(null)");
        if (!vars[i].value)
            return lg_fail(err, "template %s: value of ${%s} is NULL", name, vars[i].name);
        for (int j = 0; j < i; j++)
            if (strcmp(vars[i].name, vars[j].name) == 0)
                return lg_fail(err, "template %s: value ${%s} supplied twice", name,
                               vars[i].name);
    }
    char *used = calloc((size_t)nvars + 1, 1); // (nvars) 1 once substituted
    if (!used)
        return lg_fail(err, "out of memory");
    strbuf b = {0};
    const char *p = text;
    int line = 1;
    int rc = 0;
    while (*p) {
        const char *d = strstr(p, "${");
        const char *stop = d ? d : p + strlen(p);
        for (const char *q = p; q < stop; q++)
            line += *q == '\n';
        if ((rc = sb_put(&b, p, (size_t)(stop - p), err)))
            break;
        if (!d)
            break;
        const char *nm = d + 2, *e = nm;
        while (is_ident_char(*e))
            e++;
        if (*e != '}' || e == nm || !is_ident_start(*nm)) {
            rc = lg_fail(err, "template %s:%d: malformed placeholder (expected ${NAME})", name,
                         line);
            break;
        }
        size_t n = (size_t)(e - nm);
        int k = 0;
        while (k < nvars && !(strlen(vars[k].name) == n && memcmp(vars[k].name, nm, n) == 0))
            k++;
        if (k == nvars) {
            rc = lg_fail(err, "template %s:%d: unknown placeholder ${%.*s} (no value supplied)",
                         name, line, (int)n, nm);
            break;
        }
        used[k] = 1;
        if ((rc = sb_str(&b, vars[k].value, err)))
            break;
        p = e + 1;
    }
    for (int k = 0; rc == 0 && k < nvars; k++)
        if (!used[k])
            rc = lg_fail(err, "template %s: value ${%s} supplied but not used", name,
                         vars[k].name);
    free(used);
    if (rc == 0 && !b.s)
        rc = sb_put(&b, "", 0, err); // empty template: still a string
    if (rc) {
        free(b.s);
        return -1;
    }
    *out = b.s;
    return 0;
}

int lg_template_render(const char *name, const lg_subst *vars, int nvars, char **out,
                       lg_err *err)
{
    *out = NULL;
    const char *text = lg_template_get(name);
    if (!text)
        return lg_fail(err, "no template named '%s' (rtl_templates/%s.v is not embedded)",
                       name ? name : "(null)", name ? name : "(null)");
    return render_text(name, text, vars, nvars, out, err);
}

// ---- emit context -----------------------------------------------------------------

void lg_emit_ctx_init(lg_emit_ctx *ctx, const lg_config *cfg, const char *outdir,
                      const char *command)
{
    ctx->cfg = cfg;
    ctx->outdir = outdir;
    ctx->command = command;
    ctx->files = NULL;
    ctx->nfiles = 0;
}

void lg_emit_ctx_free(lg_emit_ctx *ctx)
{
    for (int i = 0; i < ctx->nfiles; i++)
        free(ctx->files[i]);
    free(ctx->files);
    ctx->files = NULL;
    ctx->nfiles = 0;
}

// The three banner lines every emitted file starts with.
static int banner(strbuf *b, const lg_emit_ctx *ctx, lg_err *err)
{
    const lg_config *c = ctx->cfg;
    const lg_model_config *m = &c->m;
    char cfgline[512];
    char name[sizeof c->name + 1];
    memcpy(name, c->name, sizeof c->name);
    name[sizeof c->name] = '\0'; // the struct field need not be terminated
    snprintf(cfgline, sizeof cfgline,
             "// config: %s dim=%d hidden=%d layers=%d heads=%d kv_heads=%d vocab=%d seq_len=%d "
             "lanes=%d group=%d kv_bits=%d",
             name[0] ? name : "unnamed", m->dim, m->hidden_dim, m->n_layers, m->n_heads,
             m->n_kv_heads, m->vocab_size, m->seq_len, c->hw.lanes, c->hw.group_size,
             c->hw.kv_bits);
    if (sb_str(b, "// DO NOT EDIT: generated by llamagen " LG_VERSION "\n// regenerate: ", err) ||
        sb_line(b, ctx->command ? ctx->command : "(unknown)", err) || sb_str(b, "\n", err) ||
        sb_line(b, cfgline, err) || sb_str(b, "\n", err))
        return -1;
    return 0;
}

static int check_ctx(const lg_emit_ctx *ctx, const char *what, lg_err *err)
{
    if (!ctx || !ctx->cfg || !ctx->outdir)
        return lg_fail(err, "emit %s: context has no config or output directory",
                       what ? what : "(null)");
    return 0;
}

// A plain file name inside outdir: no directory part, no hidden or special names.
static int check_file_name(const char *file, lg_err *err)
{
    if (!file || !*file || strchr(file, '/') || file[0] == '.')
        return lg_fail(err, "emit: bad output file name '%s' (a plain name inside the output "
                            "directory)",
                       file ? file : "(null)");
    return 0;
}

// Writes text to <outdir>/<file> and records the file. A file already
// emitted through this context is accepted only with identical content.
static int write_file(lg_emit_ctx *ctx, const char *file, const char *text, size_t n,
                      lg_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", ctx->outdir, file) >= (int)sizeof path)
        return lg_fail(err, "emit %s: output path too long", file);
    for (int i = 0; i < ctx->nfiles; i++) {
        if (strcmp(ctx->files[i], file) != 0)
            continue;
        FILE *f = fopen(path, "rb");
        int same = 0;
        if (f) {
            char *old = malloc(n + 1);
            if (old) {
                size_t got = fread(old, 1, n + 1, f);
                same = got == n && memcmp(old, text, n) == 0;
                free(old);
            }
            fclose(f);
        }
        if (same)
            return 0;
        return lg_fail(err,
                       "emit %s: emitted twice with different content (a module name must "
                       "carry every constant that differs between its instances)",
                       path);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return lg_fail(err, "emit %s: %s", path, strerror(errno));
    size_t wr = fwrite(text, 1, n, f);
    int bad = wr != n;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return lg_fail(err, "emit %s: write failed: %s", path, strerror(errno));
    char **files = realloc(ctx->files, sizeof *files * (size_t)(ctx->nfiles + 1));
    if (!files)
        return lg_fail(err, "out of memory");
    ctx->files = files;
    if (!(ctx->files[ctx->nfiles] = strdup(file)))
        return lg_fail(err, "out of memory");
    ctx->nfiles++;
    return 0;
}

// ---- modules ---------------------------------------------------------------------

int lg_emit_module(lg_emit_ctx *ctx, const char *module, const char *tmpl, const lg_subst *vars,
                   int nvars, const char *latency, lg_err *err)
{
    if (check_ctx(ctx, module, err))
        return -1;
    if (!is_ident(module))
        return lg_fail(err, "emit: module name '%s' is not a Verilog identifier",
                       module ? module : "(null)");
    if (nvars < 0 || (nvars > 0 && !vars))
        return lg_fail(err, "emit %s: bad substitution list", module);
    const char *text = lg_template_get(tmpl);
    if (!text)
        return lg_fail(err, "emit %s: no template named '%s'", module, tmpl ? tmpl : "(null)");

    // ${MODULE}: supplied here unless the caller did (then it must agree).
    lg_subst *all = calloc((size_t)nvars + 1, sizeof *all); // (nvars + 1)
    if (!all)
        return lg_fail(err, "out of memory");
    int n = 0, has_module = 0;
    for (int i = 0; i < nvars; i++) {
        if (vars[i].name && strcmp(vars[i].name, "MODULE") == 0) {
            has_module = 1;
            if (!vars[i].value || strcmp(vars[i].value, module) != 0) {
                free(all);
                return lg_fail(err, "emit %s: ${MODULE} = '%s' differs from the module name",
                               module, vars[i].value ? vars[i].value : "(null)");
            }
        }
        all[n++] = vars[i];
    }
    if (!has_module)
        all[n++] = (lg_subst){"MODULE", module};

    char *body = NULL;
    int rc = render_text(tmpl, text, all, n, &body, err);
    free(all);
    if (rc)
        return lg_fail_ctx(err, "emit %s", module);

    strbuf b = {0};
    char file[512];
    snprintf(file, sizeof file, "%s.v", module);
    rc = banner(&b, ctx, err);
    if (!rc)
        rc = sb_str(&b, "// latency: ", err) || sb_line(&b, latency ? latency : "n/a", err) ||
             sb_str(&b, "\n\n", err) || sb_str(&b, body, err);
    if (!rc)
        rc = write_file(ctx, file, b.s, b.len, err);
    free(body);
    free(b.s);
    return rc;
}

// ---- memory images ------------------------------------------------------------------

int lg_emit_hex(lg_emit_ctx *ctx, const char *file, const int64_t *vals, size_t n,
                int width_bits, const char *what, lg_err *err)
{
    if (check_ctx(ctx, file, err) || check_file_name(file, err))
        return -1;
    if (width_bits < 1 || width_bits > 64)
        return lg_fail(err, "emit %s: word width %d not in 1..64", file, width_bits);
    if (n > 0 && !vals)
        return lg_fail(err, "emit %s: no values", file);
    // A value fits when it is a w-bit unsigned or a w-bit two's complement
    // number: -2^(w-1) <= v < 2^w.
    for (size_t i = 0; i < n && width_bits < 64; i++) {
        int64_t lo = -((int64_t)1 << (width_bits - 1));
        if (vals[i] < lo || (width_bits < 63 && vals[i] >= ((int64_t)1 << width_bits)))
            return lg_fail(err, "emit %s: word %zu = %lld does not fit %d bits", file, i,
                           (long long)vals[i], width_bits);
    }
    uint64_t mask = width_bits == 64 ? UINT64_MAX : (((uint64_t)1 << width_bits) - 1);
    int digits = (width_bits + 3) / 4;

    strbuf b = {0};
    char line[160];
    int rc = banner(&b, ctx, err);
    snprintf(line, sizeof line, "// %zu words x %d bits (two's complement), one per line: ", n,
             width_bits);
    if (!rc)
        rc = sb_str(&b, line, err) || sb_line(&b, what ? what : file, err) ||
             sb_str(&b, "\n", err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(line, sizeof line, "%0*llx\n", digits,
                 (unsigned long long)((uint64_t)vals[i] & mask));
        rc = sb_str(&b, line, err);
    }
    if (!rc)
        rc = write_file(ctx, file, b.s, b.len, err);
    free(b.s);
    return rc;
}
