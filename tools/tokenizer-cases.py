#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/cases_extra.json: the project's own tokenizer conformance
cases (beyond the oracle's cases_oracle.json). Deterministic: long texts are built here.

    python3 tools/tokenizer-cases.py > tests/fixtures/tokenizer/cases_extra.json

A case is a string, or {"hex": ...} for byte strings that are not valid UTF-8.
"""
import json

cases = []
add = cases.append

# --- every script we could think of (one sentence or word list each) ---------------------
scripts = [
    "The quick brown fox jumps over the lazy dog.",                  # Latin
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",     # Cyrillic
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",                            # Greek
    "Բարեւ աշխարհ, ինչպե՞ս ես",                                       # Armenian
    "გამარჯობა მსოფლიო",                                               # Georgian
    "עִבְרִית עם ניקוד ובלי ניקוד",                                     # Hebrew with points
    "العربية: اللُّغَةُ العَرَبِيَّة ١٢٣",                                # Arabic with harakat
    "ܫܠܡܐ ܥܠܡܐ",                                                      # Syriac
    "ދިވެހިބަސް",                                                        # Thaana
    "हिन्दी में क्षत्रिय और ज्ञान",                                          # Devanagari conjuncts
    "বাংলা ভাষা",                                                      # Bengali
    "ਪੰਜਾਬੀ ਭਾਸ਼ਾ",                                                      # Gurmukhi
    "ગુજરાતી ભાષા",                                                     # Gujarati
    "ଓଡ଼ିଆ ଭାଷା",                                                        # Oriya
    "தமிழ் மொழி",                                                      # Tamil
    "తెలుగు భాష",                                                       # Telugu
    "ಕನ್ನಡ ಭಾಷೆ",                                                       # Kannada
    "മലയാളം ഭാഷ",                                                      # Malayalam
    "සිංහල භාෂාව",                                                      # Sinhala
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",                                      # Thai (no spaces)
    "ພາສາລາວ",                                                         # Lao
    "བོད་ཡིག་",                                                          # Tibetan
    "မြန်မာဘာသာ",                                                       # Myanmar
    "ភាសាខ្មែរ",                                                         # Khmer
    "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ",                                                     # Mongolian
    "ግዕዝ አማርኛ",                                                        # Ethiopic
    "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ",                                                      # Cherokee
    "ᐃᓄᒃᑎᑐᑦ",                                                          # Canadian syllabics
    "᚛ᚑᚌᚐᚋ᚜ ᚠᚢᚦᚨᚱᚲ",                                                  # Ogham, Runic
    "한국어 자모 가 조합",                                             # Hangul (+ conjoining jamo)
    "ひらがな カタカナ ｶﾀｶﾅ 漢字",                                       # Kana, halfwidth
    "𠀀𠀁𪚥 CJK extension B",                                          # CJK Ext B
    "ꆈꌠꉙ",                                                            # Yi
    "Tiếng Việt có dấu: người, được, những",                          # Vietnamese
    "ⵜⴰⵎⴰⵣⵉⵖⵜ",                                                         # Tifinagh
    "ߒߞߏ",                                                             # N'Ko
    "ꦧꦱꦗꦮ",                                                            # Javanese
    "𐌲𐌿𐍄𐌹𐍃𐌺 𐐔𐐯𐑅𐐨𐑉𐐯𐐻",                                             # Gothic, Deseret
    "𐀀𐀁𐀂 𒀀𒀁 𓀀𓀁𓂀",                                                  # Linear B, cuneiform, hieroglyphs
    "⠓⠑⠇⠇⠕ ⠺⠕⠗⠇⠙",                                                   # Braille
    "ɪnˈtɜːnəʃənl fəˈnɛtɪk ˈælfəbɛt",                                   # IPA
    "Ｆｕｌｌｗｉｄｔｈ　ＬＡＴＩＮ　１２３",                           # fullwidth forms
    "¢ £ ¥ € ₹ ₽ ₿ ¤ $100 €5,50",                                        # currency
    "┌──┬──┐\n│a │b │\n└──┴──┘",                                     # box drawing
    "Z̴̡̢͈̹a̷̛̝l̶̩̈g̸̨̛o̵̭͝ text",                                               # stacked combining marks
]
for text in scripts:
    add(text)

# --- whitespace ---------------------------------------------------------------------------
for text in [
    " ", "  ", "\t", "\n", "\r\n", " \n", "\n ", " \n \n ", "a \n b", "trailing   \nspaces",
    "\t \t mixed\t\t \n", "x\u000by\u000cz", "line\u2028separator\u2029paragraph",
    "mongolian\u180evowel\u180e separator", "  \u180e  ", "a\u200b\u200c\u200db",
    "\u3000\u3000ideographic", "\u00a0\u00a0nbsp\u00a0", "\u2009thin\u200ahair\u202fnarrow",
    "\r\r\r\n\n\r", " " * 100 + "x", "word" + "\n" * 7 + "word", "\t" * 33 + "deep",
]:
    add(text)

# --- digits and numbers -------------------------------------------------------------------
for text in [
    "12345678901234567890", "1 22 333 4444 55555 666666", "abc123def4567ghi",
    "3.14159265358979e-10", "+1 (555) 010-9999", "0xDEADBEEF 0b1010 0o777",
    "٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९ ০১২৩", "１２３４５ fullwidth digits",
    "2024-07-26T12:34:56Z", "v1.2.3-rc.4+build.567", "1,234,567.89 1.234.567,89",
    "½¼¾ ⅓ ⅛ ¹²³ ₁₂₃ ①②③ ⅠⅡⅢ", "9" * 50,
]:
    add(text)

# --- contractions, punctuation, quotes ----------------------------------------------------
for text in [
    "I'M YOU'RE THEY'VE WE'LL HE'D SHE'S IT'T", "y'all rock'n'roll o'clock '' 's'",
    "“smart quotes” ‘single’ «guillemets» „German“", "em—dash en–dash ellipsis… and...",
    "!!!???...,,,;;;:::", "(((nested [brackets] {braces})))", "soft\u00adhyphen",
    "e.g. i.e. etc. U.S.A. Ph.D.", "don’t can’t won’t (typographic apostrophes)",
]:
    add(text)

# --- code and structured text -------------------------------------------------------------
for text in [
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
    "$$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$",
    "| col a | col b |\n|-------|-------|\n| **1** | _2_   |",
    "C:\\Users\\name\\Documents\\file.txt and /usr/local/bin/tool",
    "user.name+tag@example.co.uk mailto:someone@example.org",
    "const re = /^(?:[a-z0-9_-]+)\\.(?:js|ts)$/i;",
    "<?xml version=\"1.0\"?><root attr='v'>&amp;&lt;&gt;</root>",
    "key: value\nlist:\n  - item1\n  - item2\n",
    "    indented with four spaces\n        and eight",
    "base64: SGVsbG8gV29ybGQhIFRoaXMgaXMgYSB0ZXN0Lg==",
]:
    add(text)

# --- emoji and symbols --------------------------------------------------------------------
for text in [
    "🏳️‍🌈 🏴‍☠️ 👩🏾‍💻 🧑‍🤝‍🧑", "1️⃣ #️⃣ *️⃣", "🇯🇵🇩🇪🇫🇷🇧🇷", "☃︎ ☃️ text vs emoji presentation",
    "∀x∈ℝ: x²≥0 ∧ ∃y: y≠x", "𝐀𝐁𝐂 𝑎𝑏𝑐 𝒜ℬ𝒞 𝔸𝔹ℂ", "♠♥♦♣ ★☆ ✓✗ ⚠️",
]:
    add(text)

# --- Unicode edge cases -------------------------------------------------------------------
for text in [
    "\ufeffBOM at start", "nul\u0000inside", "c1\u0080\u009fcontrols", "private\ue000use\uf8ff",
    "\U0010fffd plane 16", "\u0301 combining mark first", "Ångström \u212b Kelvin \u212a",
    "CJK compatibility \uf900\uf901", "decomposed \u1100\u1161\u11a8 jamo",
    "rtl \u200fmark\u200e ltr \u202eoverride\u202c", "variation\ufe0f selector\ufe0e",
    "noncharacter \ufdd0 \uffff", "ligature ﬁ ﬂ ﬀ", "ǅ titlecase ǈ ǋ",
]:
    add(text)

# --- special and added tokens of every family, mid-text -----------------------------------
for text in [
    "before<|im_start|>user\nhi<|im_end|>after",
    "<|im_start|><|im_end|><|endoftext|>",
    "text <think>reasoning</think> answer <tool_call>{}</tool_call>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "x<|reserved_special_token_5|>y <|finetune_right_pad_id|>",
    "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<unused0> <unused99><table><tr><td>x</td></tr></table>",
    "<|start|>assistant<|channel|>final<|message|>Hi<|return|>",
    "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>",
    "<s>[INST] Hi [/INST] Hello</s>",
    "<s> <s>  <s>\n</s>",
    "<<|im_end|>> <|im_end|| |<|im_end|>",
    "<unk> <0x41> <pad> <mask>",
    "special<|endoftext|>at the end<|endoftext|>",
]:
    add(text)

# --- long texts ---------------------------------------------------------------------------
paragraph = ("Directional ablation removes a single direction from the residual stream. "
             "It is applied to the output projections of attention and MLP blocks, so that "
             "no layer can write that direction again. ")
add(paragraph * 30)
add(("def f(x):\n    return x * 2  # doubles\n\n" * 40))
add("a" * 3000)
add("ab" * 1500)
add("▁" * 200 + "x")
add(" " * 1000)
add("\n" * 500)
add("1234567890" * 100)
add("你好世界，这是一个很长的中文句子。" * 60)
add("😀" * 300)
add("Ünïcödé " * 200)
add("".join(chr(c) for c in range(0x20, 0x7f)) * 10)
add("".join(chr(c) for c in range(0xa0, 0x250)))
add(" ".join("word%d" % i for i in range(800)))
add("x" * 600 + " " + "y" * 600)

# --- invalid UTF-8 (raw bytes) ------------------------------------------------------------
for hex_bytes in [
    "80",                              # lone continuation byte
    "48656c6c6f80776f726c64",          # continuation byte inside ASCII
    "c3",                              # truncated 2-byte sequence at the end
    "e282",                            # truncated 3-byte sequence
    "f09f98",                          # truncated 4-byte sequence
    "c0af",                            # overlong '/'
    "e08080",                          # overlong NUL (3 bytes)
    "eda080",                          # UTF-16 surrogate encoded in UTF-8
    "f4908080",                        # above U+10FFFF
    "f5ff fe".replace(" ", ""),        # bytes that never occur in UTF-8
    "61c3e282ac62",                    # truncated sequence followed by a valid one
    "3c7c696d5f73746172747c3eff3c7c696d5f656e647c3e",  # invalid byte between specials
    "e4bda0e5a5bd" + "ff" * 5 + "e4b896e7958c",       # run of invalid bytes in CJK
]:
    add({"hex": hex_bytes})

json.dump(cases, __import__("sys").stdout, ensure_ascii=False, indent=1)
print()
