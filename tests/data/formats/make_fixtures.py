# ruff: noqa: E501, B007
"""Write the small per-format fixtures of this folder (run once; outputs are committed).

Each file uses the exact header and separator of the tool's published output
(PLINK 1.9 files in this folder were produced by plink1.9 itself on the
gwasvcf 1000 Genomes EUR panel).
"""

import gzip
from pathlib import Path

HERE = Path(__file__).parent
# chr, pos, rsid, ref, alt, eaf(alt), beta(alt), se, p-text
V = [
    ("1", 752566, "rs3094315", "G", "A", 0.8424, 0.0123, 0.0051, "0.0159"),
    ("1", 768448, "rs12562034", "G", "A", 0.1093, -0.0210, 0.0080, "0.00866"),
    ("1", 779322, "rs4040617", "A", "G", 0.1143, 0.0034, 0.0079, "0.667"),
    ("1", 838555, "rs4970383", "C", "A", 0.2475, 0.2100, 0.0052, "1.2e-400"),
    ("2", 10001, "rs555", "T", "TA", 0.3000, -0.0500, 0.0040, "3.5E-36"),
    ("X", 2699555, "rs311165", "C", "T", 0.4500, 0.0010, 0.0060, "0.8676"),
]


def w(name, text, gz=False):
    data = text.encode()
    if gz:
        (HERE / name).write_bytes(gzip.compress(data, mtime=0))
    else:
        (HERE / name).write_bytes(data)


def ssf():
    h = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\teffect_allele_frequency\tp_value\tvariant_id\trsid\tn\n"
    rows = [
        f"{c}\t{p}\t{a}\t{r}\t{b}\t{s}\t{f}\t{pv}\t{c}_{p}_{r}_{a}\t{rs}\t10000\n"
        for c, p, rs, r, a, f, b, s, pv in V
    ]
    w("gwas_ssf.tsv.gz", h + "".join(rows), gz=True)


def plink2():
    h = "#CHROM\tPOS\tID\tREF\tALT\tPROVISIONAL_REF?\tA1\tOMITTED\tA1_FREQ\tTEST\tOBS_CT\tBETA\tSE\tT_STAT\tP\tERRCODE\n"
    rows = []
    for c, p, rs, r, a, f, b, s, pv in V:
        rows.append(
            f"{c}\t{p}\t{rs}\t{r}\t{a}\tN\t{a}\t{r}\t{f}\tADD\t5000\t{b}\t{s}\t{b / s:.4f}\t{pv}\t.\n"
        )
    w("plink2.PHENO1.glm.linear", h + "".join(rows))
    # older alpha layout: no OMITTED / A1_FREQ, OR with LOG(OR)_SE, covariate rows
    h = "#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tOR\tLOG(OR)_SE\tZ_STAT\tP\n"
    rows = []
    import math

    for c, p, rs, r, a, f, b, s, pv in V:
        a1 = r if rs == "rs4040617" else a  # A1 = REF for one variant: effect of REF
        bb = -b if a1 == r else b
        rows.append(
            f"{c}\t{p}\t{rs}\t{r}\t{a}\t{a1}\tADD\t5000\t{math.exp(bb):.6g}\t{s}\t{bb / s:.4f}\t{pv}\n"
        )
        rows.append(f"{c}\t{p}\t{rs}\t{r}\t{a}\t{a1}\tPC1\t5000\t1.01\t0.01\t1.0\t0.3\n")
    w("plink2.PHENO1.glm.logistic", h + "".join(rows))


def regenie():
    h = "CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ INFO N TEST BETA SE CHISQ LOG10P EXTRA\n"
    rows = []
    lp = {
        "0.0159": "1.79860",
        "0.00866": "2.06248",
        "0.667": "0.175874",
        "1.2e-400": "399.920819",
        "3.5E-36": "35.455932",
        "0.8676": "0.0617",
    }
    for c, p, rs, r, a, f, b, s, pv in V:
        rows.append(
            f"{c} {p} {rs} {r} {a} {f} 0.98 5000 ADD {b} {s} {(b / s) ** 2:.4f} {lp[pv]} NA\n"
        )
    w("regenie_step2_Y1.regenie", h + "".join(rows))


def bolt():
    h = "SNP\tCHR\tBP\tGENPOS\tALLELE1\tALLELE0\tA1FREQ\tF_MISS\tBETA\tSE\tP_BOLT_LMM_INF\tP_BOLT_LMM\n"
    rows = [
        f"{rs}\t{c}\t{p}\t0.0{i}\t{a}\t{r}\t{f}\t0.001\t{b}\t{s}\t{pv}\t{pv}\n"
        for i, (c, p, rs, r, a, f, b, s, pv) in enumerate(V)
    ]
    w("bolt_lmm.stats.gz", h + "".join(rows), gz=True)


def saige():
    h = "CHR\tPOS\tMarkerID\tAllele1\tAllele2\tAC_Allele2\tAF_Allele2\tMissingRate\tBETA\tSE\tTstat\tvar\tp.value\tp.value.NA\tIs.SPA\tAF_case\tAF_ctrl\tN_case\tN_ctrl\n"
    rows = [
        f"chr{c}\t{p}\t{rs}\t{r}\t{a}\t{int(f * 2 * 3000)}\t{f}\t0\t{b}\t{s}\t1.0\t1.0\t{pv}\t{pv}\tFALSE\t{f}\t{f}\t1000\t2000\n"
        for c, p, rs, r, a, f, b, s, pv in V
    ]
    w("saige_step2.txt", h + "".join(rows))


def metal():
    h = "MarkerName\tAllele1\tAllele2\tFreq1\tFreqSE\tMinFreq\tMaxFreq\tEffect\tStdErr\tP-value\tDirection\tHetISq\tHetChiSq\tHetDf\tHetPVal\n"
    rows = [
        f"{rs}\t{a.lower()}\t{r.lower()}\t{f}\t0.01\t{f - 0.01:.4f}\t{f + 0.01:.4f}\t{b}\t{s}\t{pv}\t++-\t0.0\t1.2\t2\t0.55\n"
        for c, p, rs, r, a, f, b, s, pv in V
    ]
    w("METAL1.tbl", h + "".join(rows))


def cojo():
    h = "SNP A1 A2 freq b se p N\n"
    rows = [f"{rs} {a} {r} {f} {b} {s} {pv} 10000\n" for c, p, rs, r, a, f, b, s, pv in V]
    w("cojo.ma", h + "".join(rows))


def ldsc():
    h = "SNP\tA1\tA2\tZ\tN\n"
    rows = [
        f"{rs}\t{a}\t{r}\t{b / s:.3f}\t10000.000\n"
        for c, p, rs, r, a, f, b, s, pv in V
        if len(a) == 1 and len(r) == 1
    ]
    w("ldsc.sumstats.gz", h + "".join(rows), gz=True)


def finngen():
    h = "#chrom\tpos\tref\talt\trsids\tnearest_genes\tpval\tmlogp\tbeta\tsebeta\taf_alt\taf_alt_cases\taf_alt_controls\n"
    lp = {
        "0.0159": "1.79860",
        "0.00866": "2.06248",
        "0.667": "0.175874",
        "1.2e-400": "399.920819",
        "3.5E-36": "35.455932",
        "0.8676": "0.0617",
    }
    rows = []
    for c, p, rs, r, a, f, b, s, pv in V:
        cc = "23" if c == "X" else c
        rsx = rs + ",rs999" if rs == "rs12562034" else rs
        pvx = "0" if pv == "1.2e-400" else pv
        rows.append(
            f"{cc}\t{p}\t{r}\t{a}\t{rsx}\tGENE1\t{pvx}\t{lp[pv]}\t{b}\t{s}\t{f}\t{f}\t{f}\n"
        )
    w("finngen_R10_TRAIT.gz", h + "".join(rows), gz=True)


def twosamplemr():
    h = '"SNP","beta.exposure","se.exposure","effect_allele.exposure","other_allele.exposure","eaf.exposure","pval.exposure","samplesize.exposure","chr.exposure","pos.exposure"\r\n'
    rows = [
        f'"{rs}",{b},{s},"{a.lower()}","{r.lower()}",{f},{pv},10000,"{c}",{p}\r\n'
        for c, p, rs, r, a, f, b, s, pv in V
    ]
    w("twosamplemr_exposure.csv", "\ufeff" + h + "".join(rows))


if __name__ == "__main__":
    for f in (ssf, plink2, regenie, bolt, saige, metal, cojo, ldsc, finngen, twosamplemr):
        f()
