#!/usr/bin/env python3
"""A strict checker of the Prometheus text exposition format (0.0.4).

Usage:
  prom_check.py [FILE]                     check FILE (default stdin)
  prom_check.py --sum NAME [-m K=V]... [FILE]
                                           check, then print the sum of the
                                           samples of NAME whose labels
                                           match every K=V

Checks, each error reported with its line number:
  - every line is "# HELP name text", "# TYPE name type", another comment,
    or "name{label="value",...} value [timestamp]"; the text ends with a
    newline and has no empty line;
  - metric and label names are valid, label values use only the escapes
    \\\\, \\" and \\n, no label name repeats in a sample, none starts with __;
  - values are floats (NaN, +Inf, -Inf allowed), timestamps integers;
  - every sample belongs to a family declared by one TYPE line (and at
    most one HELP line) before its first sample, the lines of a family are
    contiguous, and each family has a HELP line;
  - counters are not negative; histograms have, for every label set,
    buckets with increasing le values, non-decreasing counts, a last
    le="+Inf" bucket equal to _count, and a _sum;
  - no series (name and label set) appears twice.
Exit status: 0 when the text is valid, 1 otherwise (errors on stderr).
"""
import math
import re
import sys

NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


class Error(Exception):
    pass


def parse_float(text):
    if text in ('NaN', '+Inf', 'Inf', '-Inf'):
        return {'NaN': math.nan, '-Inf': -math.inf}.get(text, math.inf)
    if not re.fullmatch(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', text):
        raise Error(f'bad value "{text}"')
    return float(text)


def parse_labels(s, pos):
    """Parse {a="x",...} starting at s[pos] == '{'; return (dict, new pos)."""
    labels = {}
    pos += 1
    while True:
        if pos < len(s) and s[pos] == '}':
            return labels, pos + 1
        m = LABEL_RE.match(s, pos)
        if not m:
            raise Error(f'bad label name at column {pos + 1}')
        name = m.group(0)
        if name.startswith('__'):
            raise Error(f'reserved label name "{name}"')
        if name in labels:
            raise Error(f'label "{name}" repeated')
        pos = m.end()
        if s[pos:pos + 2] != '="':
            raise Error(f'expected =" after label {name}')
        pos += 2
        value = []
        while True:
            if pos >= len(s):
                raise Error(f'unterminated value of label {name}')
            c = s[pos]
            if c == '\\':
                esc = s[pos + 1:pos + 2]
                if esc not in ('\\', '"', 'n'):
                    raise Error(f'bad escape \\{esc} in label {name}')
                value.append({'n': '\n'}.get(esc, esc))
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == '\n':
                raise Error(f'raw newline in label {name}')
            else:
                value.append(c)
                pos += 1
        labels[name] = ''.join(value)
        if pos < len(s) and s[pos] == ',':
            pos += 1
            if pos < len(s) and s[pos] == '}':
                return labels, pos + 1
        elif pos < len(s) and s[pos] == '}':
            return labels, pos + 1
        else:
            raise Error(f'expected , or }} after label {name}')


def parse_sample(line):
    m = NAME_RE.match(line)
    if not m:
        raise Error('bad metric name')
    name, pos = m.group(0), m.end()
    labels = {}
    if pos < len(line) and line[pos] == '{':
        labels, pos = parse_labels(line, pos)
    if pos >= len(line) or line[pos] != ' ':
        raise Error('expected one space before the value')
    fields = line[pos + 1:].split(' ')
    if len(fields) not in (1, 2) or '' in fields:
        raise Error('expected "value [timestamp]" after the labels')
    value = parse_float(fields[0])
    if len(fields) == 2 and not re.fullmatch(r'-?\d+', fields[1]):
        raise Error(f'bad timestamp "{fields[1]}"')
    return name, labels, value


def family_of(name, types):
    if name in types:
        return name
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ('histogram', 'summary'):
            if suffix == '_bucket' and types[base] == 'summary':
                continue
            return base
    return None


def check(text):
    """Return (errors, samples); samples: list of (name, labels, value)."""
    errors, samples = [], []
    types, helps, done, seen = {}, set(), set(), set()
    current = None
    hist = {}   # (family, labels without le) -> {'buckets': [], 'sum', 'count'}

    if text and not text.endswith('\n'):
        errors.append('last line: the text must end with a newline')
    for n, line in enumerate(text.split('\n')[:-1] if text.endswith('\n')
                             else text.split('\n'), 1):
        try:
            if line == '':
                raise Error('empty line')
            if line.startswith('#'):
                parts = line.split(' ', 3)
                if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                    kind, name = parts[1], parts[2]
                    if not NAME_RE.fullmatch(name):
                        raise Error(f'bad metric name "{name}" in {kind}')
                    if name != current:
                        if name in done:
                            raise Error(f'family {name} is not contiguous')
                        if current is not None:
                            done.add(current)
                        current = name
                    if kind == 'HELP':
                        if name in helps:
                            raise Error(f'second HELP for {name}')
                        helps.add(name)
                    else:
                        if name in types:
                            raise Error(f'second TYPE for {name}')
                        if any(family_of(s[0], {name: 'x'}) == name
                               for s in samples):
                            raise Error(f'TYPE of {name} after its samples')
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise Error(f'bad TYPE line for {name}')
                        types[name] = parts[3]
                continue
            name, labels, value = parse_sample(line)
            fam = family_of(name, types)
            if fam is None:
                raise Error(f'sample {name} before (or without) a TYPE line')
            if fam != current:
                raise Error(f'sample {name} outside its family {fam}')
            if fam not in helps:
                raise Error(f'family {fam} has no HELP line')
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise Error(f'duplicate series {name}{labels}')
            seen.add(key)
            kind = types[fam]
            if kind == 'counter' and not value >= 0:
                raise Error(f'counter {name} is negative or NaN')
            if kind == 'histogram':
                rest = tuple(sorted((k, v) for k, v in labels.items()
                                    if k != 'le'))
                h = hist.setdefault((fam, rest), {'buckets': [], 'line': n})
                if name.endswith('_bucket'):
                    if 'le' not in labels:
                        raise Error(f'{name} without le')
                    le = parse_float(labels['le'])
                    if h['buckets'] and le <= h['buckets'][-1][0]:
                        raise Error(f'{name}: le {labels["le"]} not increasing')
                    if h['buckets'] and value < h['buckets'][-1][1]:
                        raise Error(f'{name}: bucket counts decrease')
                    h['buckets'].append((le, value))
                elif 'le' in labels:
                    raise Error(f'{name} with an le label')
                else:
                    h[name[len(fam) + 1:]] = value
            samples.append((name, labels, value))
        except Error as e:
            errors.append(f'line {n}: {e}: {line[:200]}')
    for (fam, rest), h in hist.items():
        where = f'histogram {fam}{dict(rest)} (line {h["line"]})'
        if not h['buckets'] or h['buckets'][-1][0] != math.inf:
            errors.append(f'{where}: no le="+Inf" bucket last')
        elif 'count' not in h or h['count'] != h['buckets'][-1][1]:
            errors.append(f'{where}: +Inf bucket != _count')
        if 'sum' not in h:
            errors.append(f'{where}: no _sum')
    return errors, samples


def main(argv):
    args, sum_name, matches = list(argv), None, {}
    while args and args[0].startswith('-') and args[0] != '-':
        opt = args.pop(0)
        if opt in ('-h', '--help'):
            print(__doc__)
            return 0
        if opt == '--sum' and args:
            sum_name = args.pop(0)
        elif opt in ('-m', '--match') and args and '=' in args[0]:
            k, v = args.pop(0).split('=', 1)
            matches[k] = v
        else:
            print(f'prom_check.py: bad argument {opt} (see --help)',
                  file=sys.stderr)
            return 2
    if len(args) > 1:
        print('prom_check.py: at most one FILE', file=sys.stderr)
        return 2
    if args and args[0] != '-':
        with open(args[0], encoding='utf-8') as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    errors, samples = check(text)
    for e in errors:
        print(f'prom_check.py: {e}', file=sys.stderr)
    if errors:
        return 1
    if sum_name is not None:
        total = sum(v for n, l, v in samples if n == sum_name and
                    all(l.get(k) == v for k, v in matches.items()))
        print(int(total) if total == int(total) else total)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
