"""Fills empty msgstr entries of a .po file from a JSON dictionary {msgid: translation}.

    python scripts/fill_po.py path/to/django.po translations.json
Used when adding strings; prints the msgids still untranslated.
"""
import json
import re
import sys

ENTRY = re.compile(r'((?:^#.*\n)*)^msgid ((?:".*"\n)+)^msgstr ((?:".*"\n)+)', re.M)


def unquote(block: str) -> str:
    return "".join(json.loads(line) for line in block.strip().splitlines())


def main(po_path: str, dict_path: str) -> None:
    text = open(po_path, encoding="utf-8").read()
    table = json.load(open(dict_path, encoding="utf-8"))
    missing = []

    def fill(match):
        comments, msgid_block, msgstr_block = match.groups()
        msgid, msgstr = unquote(msgid_block), unquote(msgstr_block)
        if not msgid or msgstr:
            return match.group(0)
        if msgid not in table:
            missing.append(msgid)
            return match.group(0)
        comments = comments.replace("#, fuzzy\n", "")
        return f"{comments}msgid {msgid_block}msgstr {json.dumps(table[msgid], ensure_ascii=False)}\n"

    text = ENTRY.sub(fill, text)
    open(po_path, "w", encoding="utf-8").write(text)
    for msgid in missing:
        print("untranslated:", msgid)


if __name__ == "__main__":
    main(*sys.argv[1:3])
