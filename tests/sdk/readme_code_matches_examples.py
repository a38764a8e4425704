#!/usr/bin/env python3
"""README.md's code is the code CI builds: every ```cpp / ```cmake block whose first line
names an example file ("// apot_fake_quantize.cpp" or "# sdk/examples/.../CMakeLists.txt")
must appear verbatim in that file (a block may show a contiguous excerpt)."""
import glob, os, re, sys

root = sys.argv[1]
readme = open(os.path.join(root, "README.md")).read()
files = {os.path.relpath(p, root): open(p).read()
         for p in glob.glob(os.path.join(root, "sdk", "examples", "**", "*"), recursive=True) if os.path.isfile(p)}
checked, errors = 0, []
for lang, body in re.findall(r"```(cpp|cmake)\n(.*?)```", readme, re.S):
    first, _, rest = body.partition("\n")
    m = re.match(r"(?://|#) (\S+\.(?:cpp|h|txt))(?: \(excerpt\))?$", first.strip())
    if not m:
        continue
    name = m.group(1)
    matches = [p for p in files if p == name or os.path.basename(p) == os.path.basename(name)]
    if not matches:
        errors.append(f"README.md shows {name}, which is not in sdk/examples/")
        continue
    if not any(rest in files[p] for p in matches):
        errors.append(f"README.md's block for {name} differs from {matches[0]}")
    checked += 1
if checked < 5:
    errors.append(f"only {checked} README blocks name an example file; expected the walkthroughs")
if errors:
    sys.exit("\n".join(errors))
print(f"{checked} README code blocks match sdk/examples/")
