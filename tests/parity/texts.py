"""1,000 deterministic test strings for tokenizer parity.

Short queries, long sentences past 77 tokens, punctuation, accents and other
Latin/Greek/Cyrillic scripts, CJK (with fullwidth and halfwidth forms) and
emoji (skin tones, ZWJ sequences, flags, keycaps). Generated from a fixed seed.
"""

from __future__ import annotations

import random

SUBJECTS = "dog cat child woman man bird car bicycle boat horse tree mountain building bridge cake pizza receipt passport".split()
PLACES = "on a beach|in the snow|at sunset|in a kitchen|on a street|in the forest|at night|under the rain|in a museum|by the lake".split("|")
ADJECTIVES = "red blue old small huge smiling blurry bright dark wet golden tiny".split()
PUNCT = [
    "what's up?!", "(hello) [world] {x}", "e-mail: someone@example.com", "#sunset @friend", "3.14159 and 1,000,000",
    "C++ / C# & F#", "it's", "don't", "we'll", "I'd've", "they're", "you've", "I'm", "--", "...", "$5.99", "50% off",
    "&amp;", "&lt;3", "<b>bold</b>", "fish &amp; chips", "a\tb", "line\nbreak", "\"quoted\"", "'single'", "x_y_z",
    "~tilde~", "a/b\\c", "caps LOCK", "MiXeD CaSe", "!!!", "???", "::", ";-)", ":D", "<3", "100+", "#1", "no.5",
    "'s", "S'S", "rock'n'roll", "2024-06-01 12:30", "v1.2.3", "www.example.org/path?q=1", "A&B", "&quot;x&quot;",
]
ACCENTED = [
    "café au lait", "naïve façade", "Ångström", "Zürich", "São Paulo", "Dvořák", "Łódź", "İstanbul", "straße",
    "Καλημέρα ΟΔΟΣ", "Привет мир", "cafe\u0301", "crème brûlée", "El Niño", "Mañana", "Øresund", "Þingvellir",
    "ça va", "Ærø", "œuvre", "Đà Nẵng", "Tiếng Việt", "Ελλάδα", "Київ", "Bầu trời", "fiancée", "résumé",
    "piñata", "jalapeño", "coöperate", "Ÿ", "Ŝ ĉ ĝ", "ﬁsh ﬂy", "ĳs", "ǅemal", "\u201ccurly\u201d \u2018quotes\u2019",
    "em\u2014dash", "non\u00a0breaking", "soft\u00adhyphen", "zero\u200bwidth", "עברית", "العربية", "हिन्दी", "ภาษาไทย",
]
CJK = [
    "海滩上的狗", "東京の夜景", "ｶﾀｶﾅ", "서울 야경", "ＡＢＣ１２３", "日本語。「引用」、句読点", "北京\u3000上海", "猫と犬",
    "一只红色的汽车", "富士山の写真", "김치 찌개", "漢字かなカナ", "ラーメン", "水果蛋糕", "桜の木の下で", "中文（括号）",
    "ｈｅｌｌｏ　ｗｏｒｌｄ", "〜波ダッシュ〜", "㈱会社", "①②③", "〒100-0001", "香港 維多利亞港", "台北101",
]
EMOJI = [
    "🐶", "🐱 cute", "🏖️ beach", "👍🏽", "👨‍👩‍👧", "🇯🇵", "1️⃣", "❤️", "🎉🎂", "🌅 sunset", "🚗💨", "🍕🍕🍕",
    "☕ coffee", "🏔️❄️", "🧑🏿‍🚀", "🏳️‍🌈", "✨", "😂😂", "🙈🙉🙊", "⚽ goal",
]


def _long_sentence(rng: random.Random) -> str:
    words = []
    while len(words) < rng.randint(60, 140):
        words += [rng.choice(ADJECTIVES), rng.choice(SUBJECTS), rng.choice(PLACES)]
        if rng.random() < 0.3:
            words.append(rng.choice([",", ".", "and", "with", "while", ";"]))
    return " ".join(words)


def generate(n: int = 1000, seed: int = 1234) -> list[str]:
    rng = random.Random(seed)

    def query() -> str:
        parts = [rng.choice(ADJECTIVES), rng.choice(SUBJECTS)]
        if rng.random() < 0.7:
            parts.append(rng.choice(PLACES))
        text = " ".join(parts)
        return text.upper() if rng.random() < 0.1 else text.title() if rng.random() < 0.2 else text

    fixed = PUNCT + ACCENTED + CJK + EMOJI  # every hand-written sample once
    makers = [
        (250, query),
        (150, lambda: _long_sentence(rng)),
        (120, lambda: " ".join(rng.sample(PUNCT, rng.randint(1, 4))) + (" " + query() if rng.random() < 0.5 else "")),
        (120, lambda: " ".join(rng.sample(ACCENTED, rng.randint(1, 3))) + (" " + query() if rng.random() < 0.5 else "")),
        (110, lambda: "".join(rng.sample(CJK, rng.randint(1, 3))) + (" " + query() if rng.random() < 0.3 else "")),
        (n - 750 - len(fixed), lambda: " ".join(rng.sample(EMOJI, rng.randint(1, 3))) + (" " + query() if rng.random() < 0.6 else "")),
    ]
    out: list[str] = []
    for count, make in makers:
        out += [make() for _ in range(count)]
    out += fixed
    if len(out) != n:
        raise ValueError(f"generated {len(out)} strings, not {n}")
    return out
