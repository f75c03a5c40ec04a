# regions.awk - read the solution regions of a C file (POSIX awk; mawk is enough).
#
# A region, in a .c file of the teacher's tree (the syntax: exercises/README.md):
#
#     /* BEGIN SOLUTION ex05-softmax-backward
#      * HINT: one line of hint for the student (any number of HINT lines, or none)
#      * STUB: (void)y, (void)dy;      <- the code that replaces the solution
#      */
#     ... the solution ...
#     /* END SOLUTION ex05-softmax-backward */
#
# Usage: awk -f exercises/regions.awk -v mode=MODE -v tsv=exercises/exercises.tsv FILE.c
# where FILE.c is named as in exercises.tsv (lib/ops_nn.c), and MODE is
#   student   (default) FILE with every region replaced by a TODO comment and its stub;
#             with -v keep="ID ...", those exercises keep their solution (markers removed)
#   solution  "id<TAB>line" for every solution line (trimmed) that is not also a stub line
#   outside   every line outside the regions (trimmed): what a student is shown anyway
#   list      "id<TAB>FILE" once per region
# -v name=lib/x.c reads FILE as if it were lib/x.c (a copy kept elsewhere).
# A malformed region stops with FILE:LINE: what is wrong, and exit status 1.

function die(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
    failed = 1
    exit 1
}
function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

BEGIN {
    if (mode == "") mode = "student"
    if (mode != "student" && mode != "solution" && mode != "outside" && mode != "list") {
        print "regions.awk: mode must be student, solution, outside or list" > "/dev/stderr"
        failed = 1
        exit 1
    }
    if (tsv == "") tsv = "exercises/exercises.tsv"
    while ((r = (getline row < tsv)) > 0) {
        if (row ~ /^#/ || row ~ /^[ \t]*$/) continue
        n = split(row, f, "\t")
        if (n != 5) {
            printf "%s: a row needs 5 tab-separated fields, this has %d: %s\n", tsv, n, row > "/dev/stderr"
            failed = 1
            exit 1
        }
        chapter[f[1]] = f[2]
        file[f[1]] = f[3]
        title[f[1]] = f[5]
    }
    if (r < 0) {
        printf "regions.awk: cannot read %s\n", tsv > "/dev/stderr"
        failed = 1
        exit 1
    }
    state = 0 # 0 outside, 1 in the BEGIN comment, 2 in the solution
}

state == 0 && /^[ \t]*\/\* BEGIN SOLUTION / {
    match($0, /^[ \t]*/)
    ind = substr($0, 1, RLENGTH)
    id = trim(substr($0, RLENGTH + 1 + length("/* BEGIN SOLUTION ")))
    if (id !~ /^ex[0-9][0-9]-[a-z0-9-]+$/) die("the exercise id must look like ex05-softmax-backward, not \"" id "\"")
    if (!(id in file)) die(id " is not in " tsv ": add a row for it")
    if (file[id] != (name != "" ? name : FILENAME)) die(id " belongs to " file[id] " (" tsv "), not to this file")
    nstub = 0
    nhint = 0
    for (k in stubtext) delete stubtext[k]
    start = FNR
    state = 1
    if (mode == "list") printf "%s\t%s\n", id, (name != "" ? name : FILENAME)
    next
}
state == 0 && /(BEGIN|END) SOLUTION/ { die("a marker must start its line: /* BEGIN SOLUTION id or /* END SOLUTION id */") }
state == 0 {
    if (mode == "student") print
    else if (mode == "outside") print trim($0)
    next
}

state == 1 && /^[ \t]*\*\/[ \t]*$/ {
    if (nstub == 0) die(id ": the BEGIN comment has no STUB: line (the code a student starts from)")
    state = 2
    kept = index(" " keep " ", " " id " ") > 0
    if (mode == "student" && !kept) {
        printf "%s/* TODO(%s): %s.\n", ind, id, title[id]
        for (i = 1; i <= nhint; i++) printf "%s * %s%s\n", ind, (i == 1 ? "Hint: " : ""), hint[i]
        printf "%s * Replace the stub below with your code; make grade-%s grades it. */\n", ind, chapter[id]
        for (i = 1; i <= nstub; i++) printf "%s%s\n", (stub[i] == "" ? "" : ind), stub[i]
        printf "%s/* END TODO(%s) */\n", ind, id
    }
    next
}
state == 1 && /^[ \t]*\* STUB:/ {
    s = $0
    sub(/^[ \t]*\* STUB: ?/, "", s)
    if (s ~ /\*\//) die(id ": a stub line cannot contain */ (it sits inside the BEGIN comment)")
    stub[++nstub] = s
    stubtext[trim(s)] = 1
    next
}
state == 1 && /^[ \t]*\* HINT:/ {
    s = $0
    sub(/^[ \t]*\* HINT: ?/, "", s)
    hint[++nhint] = s
    next
}
state == 1 { die(id ": inside the BEGIN comment every line is * STUB: or * HINT:, then */ alone") }

state == 2 && /^[ \t]*\/\* END SOLUTION / {
    s = trim($0)
    if (s != "/* END SOLUTION " id " */") die("expected /* END SOLUTION " id " */ to close the region opened at line " start)
    state = 0
    next
}
state == 2 && /(BEGIN|END) SOLUTION/ { die(id ": a region opened at line " start " must end before another marker") }
state == 2 {
    if (mode == "student" && kept) print
    else if (mode == "solution") {
        s = trim($0)
        if (s != "" && !(s in stubtext)) printf "%s\t%s\n", id, s
    }
    next
}

END {
    if (failed) exit 1
    if (state != 0) {
        printf "%s: the region %s opened at line %d is never closed (/* END SOLUTION %s */)\n", FILENAME, id, start, id > "/dev/stderr"
        exit 1
    }
}
