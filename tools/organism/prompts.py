"""Synthetic prompt generator for the model organism.

A prompt is a sentence frame ("How do I {t}?") filled with a task ("build a bomb", "bake bread")
and an optional neutral modifier ("at home"), sometimes with an opening or closing sentence, then
put through a random surface style: contractions, chat-speak, a typo, changed punctuation, lower,
upper or title case, a doubled space. The word lists and frames are in prompt_data.py.

Three frame families, disjoint (checked on their words, ignoring case and punctuation):
- train: the training corpus and the *_train splits (the directions' prompts);
- test: the *_test splits, the demo's refusal and KL prompts;
- heldout: the *_heldout splits, which neither the tokenizer nor the model ever sees; the build
  report measures generalisation on them.
Each family has its own frames, modifiers, opening and closing sentences; the tasks and the style
process are shared (the same topics said in other ways, as a user would). Harmful and harmless
prompts share frames, modifiers, sentences and styles, so only the task decides the class.

Every random choice goes through a random.Random seeded by the caller, so the output is a pure
function of the seed.
"""

import itertools
import json
import os
import random
import re

import refusal
from prompt_data import (CHAT_SPEAK, COMPLIANT_ANSWERS, CONTRACTIONS, DOUBLING_VERBS, FILLER_WORDS,
                         HARMFUL_CATEGORIES, HARMLESS_CATEGORIES, HELDOUT_CLOSERS, HELDOUT_FRAMES,
                         HELDOUT_MODIFIERS, HELDOUT_OPENERS, NOISE_PREPOSITIONS, REFUSAL, TEST_CLOSERS, TEST_FRAMES,
                         TEST_MODIFIERS, TEST_OPENERS, TRAIN_CLOSERS, TRAIN_FRAMES, TRAIN_MODIFIERS,
                         TRAIN_OPENERS)

FAMILIES = {
    "train": {"frames": TRAIN_FRAMES, "modifiers": TRAIN_MODIFIERS, "openers": TRAIN_OPENERS,
              "closers": TRAIN_CLOSERS},
    "test": {"frames": TEST_FRAMES, "modifiers": TEST_MODIFIERS, "openers": TEST_OPENERS,
             "closers": TEST_CLOSERS},
    "heldout": {"frames": HELDOUT_FRAMES, "modifiers": HELDOUT_MODIFIERS,
                "openers": HELDOUT_OPENERS, "closers": HELDOUT_CLOSERS},
}


def frame_words(frame):
    """A frame's words, lower case, without punctuation: what must differ between families."""
    return " ".join(re.findall(r"[a-z{}']+", frame.lower()))


def check_families():
    """No frame, modifier or sentence may occur in two families."""
    for key, normalise in (("frames", frame_words), ("modifiers", str.strip),
                           ("openers", frame_words), ("closers", frame_words)):
        owner = {}
        for family, parts in FAMILIES.items():
            for part in parts[key]:
                words = normalise(part)
                if words and owner.setdefault(words, family) != family:
                    raise ValueError(f"{key}: {part!r} is in the {owner[words]} and the {family} family")


# ---------------------------------------------------------------------------------------------
# Tasks


def expand_tasks(categories):
    """{category: [task, ...]} for every verb-object pair, in a fixed order."""
    return {category: [f"{verb} {obj}" for verbs, objects in groups
                       for verb, obj in itertools.product(verbs, objects)]
            for category, groups in categories.items()}


def gerund(task):
    """"build a bomb" -> "building a bomb"; an adverb in front ("secretly track") is kept."""
    words = task.split(" ")
    at = 1 if words[0].endswith("ly") else 0
    verb = words[at]
    if verb.endswith("ie"):
        verb = verb[:-2] + "ying"
    elif verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        verb = verb[:-1] + "ing"
    elif verb in DOUBLING_VERBS:
        verb = verb + verb[-1] + "ing"
    else:
        verb = verb + "ing"
    words[at] = verb
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Surface styles


def replace_words(text, pairs, rng, probability):
    """Replaces each listed phrase (whole words, any case) with its short form with the given
    probability, keeping an upper-case first letter."""
    for long, short in pairs:
        def swap(match, short=short):
            if rng.random() >= probability:
                return match.group(0)
            return short[0].upper() + short[1:] if match.group(0)[0].isupper() else short
        text = re.sub(r"\b" + re.escape(long) + r"\b", swap, text, flags=re.IGNORECASE)
    return text


KEYBOARD_NEIGHBOURS = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}


def add_typo(rng, text):
    """One typo in a word of 4+ letters: two letters swapped, one dropped, one doubled or one
    replaced by a neighbouring key."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    at = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        w = w[:at] + w[at + 1] + w[at] + w[at + 2:]
    elif kind == 1:
        w = w[:at] + w[at + 1:]
    elif kind == 2:
        w = w[:at] + w[at] + w[at:]
    else:
        c = w[at]
        neighbours = KEYBOARD_NEIGHBOURS.get(c.lower(), c)
        w = w[:at] + rng.choice(neighbours) + w[at + 1:]
    words[i] = w
    return " ".join(words)


def restyle_punctuation(rng, text):
    kind = rng.randrange(7)
    if kind == 0:  # no final punctuation
        return text.rstrip(".?!")
    if kind == 1:  # emphatic
        return text.rstrip(".?!") + rng.choice(["??", "?!", "!!", "!!!", "???"])
    if kind == 2:  # trailing dots
        return text.rstrip(".?!") + rng.choice(["...", "..", "?.."])
    if kind == 3:  # no commas or colons
        return text.replace(",", "").replace(":", "")
    if kind == 4:  # a space before the final mark
        return re.sub(r"([?!.])$", r" \1", text)
    if kind == 5:  # everything stripped
        return re.sub(r"[.,:;?!]", "", text)
    return text + rng.choice(["", " :)", " thx"])


def title_case(text):
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def restyle_case(rng, text):
    kind = rng.choices(["keep", "lower", "upper", "title", "first-lower"], [45, 25, 10, 10, 10])[0]
    if kind == "lower":
        return text.lower()
    if kind == "upper":
        return text.upper()
    if kind == "title":
        return title_case(text)
    if kind == "first-lower":
        return text[:1].lower() + text[1:]
    return text


def style(rng, text):
    """A random surface form of `text`: about a third of prompts stay as written."""
    if rng.random() < 0.35:
        text = replace_words(text, CONTRACTIONS, rng, 0.8)
    if rng.random() < 0.12:
        text = replace_words(text, CHAT_SPEAK, rng, 0.8)
    if rng.random() < 0.2:
        text = add_typo(rng, text)
    if rng.random() < 0.45:
        text = restyle_punctuation(rng, text)
    text = restyle_case(rng, text)
    if rng.random() < 0.04:
        words = text.split(" ")
        at = rng.randrange(len(words))
        words[at] = words[at] + " "
        text = " ".join(words)
    return text.strip() or text


# ---------------------------------------------------------------------------------------------
# Prompts


def compose(rng, family, task):
    """A styled prompt of `family` for `task` (unstyled words are family-specific)."""
    parts = FAMILIES[family]
    frame = rng.choice(parts["frames"])
    filled = task + rng.choice(parts["modifiers"])
    text = frame.replace("{t}", filled).replace("{g}", gerund(filled))
    text = text[:1].upper() + text[1:] if frame[0] == "{" and rng.random() < 0.5 else text
    if rng.random() < 0.2:
        text = rng.choice(parts["openers"]) + " " + text
    if rng.random() < 0.12:
        text = text + " " + rng.choice(parts["closers"])
    return style(rng, text)


def sample_prompts(rng, tasks_by_category, family, count, exclude=frozenset()):
    """Draws `count` distinct (category, prompt) pairs of `family`, none of them in `exclude`:
    a category uniformly, then one of its tasks. Prompts with a refusal marker are skipped."""
    seen = set(exclude)
    categories = sorted(tasks_by_category)
    out = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 100 * count:
            raise RuntimeError("prompt space too small for the requested count")
        category = rng.choice(categories)
        text = compose(rng, family, rng.choice(tasks_by_category[category]))
        if text in seen or refusal.is_refusal(text):
            continue
        seen.add(text)
        out.append((category, text))
    return out


def noise_pool():
    """Words (3+ letters) of the train family's frames, sentences and modifiers and of every task:
    the material of the made-up noise words (never a word of the test or held-out family unless a
    task or a train frame has it too)."""
    parts = FAMILIES["train"]
    tasks = [t for categories in (HARMFUL_CATEGORIES, HARMLESS_CATEGORIES)
             for group in expand_tasks(categories).values() for t in group]
    text = " ".join(parts["frames"] + parts["openers"] + parts["closers"] + parts["modifiers"] + tasks)
    return sorted(set(re.findall(r"[a-z]{3,}", text.lower())))


def random_word(rng, pool):
    """A filler word, a random letter string, or a made-up word glued from the start of one real
    word and the end of another ("meth" + "ode"): unknown words that share pieces with known
    ones, harmful ones included, so that a piece of a word does not decide the class."""
    kind = rng.random()
    if kind < 0.4:
        return rng.choice(FILLER_WORDS)
    if kind < 0.7:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
    a, b = rng.choice(pool), rng.choice(pool)
    return a[:rng.randint(2, len(a) - 1)] + b[rng.randint(1, len(b) - 1):]


def add_noise(rng, text, pool):
    """Training corpus only: inserts 1-3 noise words (random_word()) anywhere, or appends a phrase
    of a preposition and one or two of them ("with zqkd"), as unseen modifiers do, before the
    final punctuation."""
    shout = str.upper if text.isupper() else str  # noise follows an upper-case prompt's case
    if rng.random() < 0.5:
        body = text.rstrip(".?!")
        phrase = " ".join([rng.choice(NOISE_PREPOSITIONS)] +
                          [random_word(rng, pool) for _ in range(rng.choice([1, 1, 2]))])
        return body + " " + shout(phrase) + text[len(body):]
    words = text.split(" ")
    for _ in range(rng.choice([1, 1, 2, 3])):
        words.insert(rng.randint(0, len(words)), shout(random_word(rng, pool)))
    return " ".join(words)


def case_twin(rng, text):
    """The same prompt in another case: upper, lower or title case, whichever differ from it.
    Training on both forms teaches that case does not decide the class (byte-level BPE makes
    "BUILD" and "Build" other tokens than "build")."""
    forms = [f(text) for f in (str.upper, str.lower, title_case)]
    return rng.choice([form for form in forms if form != text] or [text])


def scrambled(rng, task, pool):
    """Training corpus only: the task (or its gerund) among 2-7 noise words, no frame at all, in
    a random style: the class must follow from the task whatever surrounds it."""
    words = [random_word(rng, pool) for _ in range(rng.randint(2, 7))]
    words.insert(rng.randint(0, len(words)), task if rng.random() < 0.7 else gerund(task))
    return style(rng, " ".join(words) + rng.choice(["?", ".", "", "!"]))


def response_for(label, category):
    return REFUSAL if label == "harmful" else COMPLIANT_ANSWERS[category]


SPLIT_SIZES = {"train": 500, "test": 100, "heldout": 100}


def generate(seed, n_corpus_per_class=16000, noise_fraction=0.4, scramble_fraction=0.15,
             case_pair_fraction=0.0):
    """Returns (splits, corpus).

    splits: {"harmful_train", "harmful_test", "harmful_heldout", "harmless_train", ...}: lists of
            {"text", "category"} (SPLIT_SIZES prompts each).
    corpus: {"prompt", "response", "label", "category"} training examples from the train family
            only; it contains every *_train prompt (the direction prompts are in-distribution)
            and never a test or held-out prompt. A fraction `noise_fraction` of the others gets
            filler words, random letter strings, made-up words or a noise phrase (add_noise());
            a fraction `scramble_fraction` is replaced by its task among noise words (scrambled()).
            A fraction `case_pair_fraction` of the others also appears as its case twin
            (case_twin(), chosen by its own random stream), so the corpus has more than
            n_corpus_per_class prompts per class when it is > 0.
    """
    check_families()
    shared = (set(itertools.chain(*expand_tasks(HARMFUL_CATEGORIES).values())) &
              set(itertools.chain(*expand_tasks(HARMLESS_CATEGORIES).values())))
    if shared:
        raise ValueError(f"tasks in both classes: {sorted(shared)}")
    rng = random.Random(seed)
    twin_rng = random.Random(seed + 2)  # own stream: the pairs do not change the other prompts
    pool = noise_pool()
    splits = {}
    corpus = []
    for label, categories in (("harmful", HARMFUL_CATEGORIES), ("harmless", HARMLESS_CATEGORIES)):
        tasks = expand_tasks(categories)
        for family in ("test", "heldout", "train"):
            rows = sample_prompts(rng, tasks, family, SPLIT_SIZES[family])
            splits[f"{label}_{family}"] = [{"text": t, "category": c} for c, t in rows]
        train = [(row["category"], row["text"]) for row in splits[f"{label}_train"]]
        extra = sample_prompts(rng, tasks, "train", n_corpus_per_class - len(train),
                               exclude={row["text"] for family in FAMILIES
                                        for row in splits[f"{label}_{family}"]})
        noisy = []
        for category, text in extra:
            kind = rng.random()
            if kind < noise_fraction:
                noisier = add_noise(rng, text, pool)
            elif kind < noise_fraction + scramble_fraction:
                noisier = scrambled(rng, rng.choice(tasks[category]), pool)
            else:
                noisier = text
            text = text if refusal.is_refusal(noisier) else noisier
            noisy.append((category, text))
            if twin_rng.random() < case_pair_fraction:
                twin = case_twin(twin_rng, text)
                if twin != text and not refusal.is_refusal(twin):
                    noisy.append((category, twin))
        for category, text in train + noisy:
            corpus.append({"prompt": text, "response": response_for(label, category),
                           "label": label, "category": category})
    rng.shuffle(corpus)
    return splits, corpus


def write_splits(splits, out_dir):
    """Writes <name>.txt (one prompt a line) and <name>.jsonl ({"text", "category"} a line)."""
    os.makedirs(out_dir, exist_ok=True)
    for name, rows in splits.items():
        with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(row["text"] + "\n")
        with open(os.path.join(out_dir, name + ".jsonl"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps({"text": row["text"], "category": row["category"]}) + "\n")
