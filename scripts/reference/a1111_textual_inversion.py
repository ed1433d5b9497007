"""Golden prompt chunks with textual-inversion embeddings, from AUTOMATIC1111's own code.

Runs AUTOMATIC1111's FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line (modules/sd_hijack_clip.py @00e09382),
its EmbeddingDatabase.register_embedding_by_name / find_embedding_at_position
(modules/textual_inversion/textual_inversion.py @22ecb78b) and parse_prompt_attention (modules/prompt_parser.py
@0674fabd) on a few prompts with embeddings of 1 to 40 vectors, and writes each prompt's chunks (token ids with
A1111's 0 placeholders, multipliers, fixes as [offset, name]) and token count as JSON.

    /usr/bin/python3 scripts/reference/a1111_textual_inversion.py EXCERPT.py FIXTURES/tokenizer OUT.json

EXCERPT.py holds those upstream functions verbatim (not committed); its module globals `opts` and `prompt_parser`
are set here (emphasis "Original", comma_padding_backtrack 20: A1111's defaults). Text is tokenized by a plain CLIP
BPE over vocab.json / merges.txt, enough for the lowercase ASCII prompts used here.
"""
import importlib.util
import json
import re
import sys
import types

excerpt_path, tokenizer_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]

spec = importlib.util.spec_from_file_location("ti_excerpt", excerpt_path)
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)
ex.opts = types.SimpleNamespace(emphasis="Original", comma_padding_backtrack=20)
ex.prompt_parser = types.SimpleNamespace(parse_prompt_attention=ex.parse_prompt_attention)

vocab = json.load(open(f"{tokenizer_dir}/vocab.json", encoding="utf-8"))
merges = [tuple(line.split()) for line in open(f"{tokenizer_dir}/merges.txt", encoding="utf-8").read().split("\n")[1:]
          if line.strip()]
ranks = {m: i for i, m in enumerate(merges)}
WORD = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")


def bpe(word):
    parts = list(word[:-1]) + [word[-1] + "</w>"]
    while len(parts) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        first, second = parts[i], parts[i + 1]
        merged, j = [], 0
        while j < len(parts):
            if j + 1 < len(parts) and parts[j] == first and parts[j + 1] == second:
                merged.append(first + second)
                j += 2
            else:
                merged.append(parts[j])
                j += 1
        parts = merged
    return [vocab[p] for p in parts]


def tokenize_text(text):
    text = " ".join(text.split()).lower()
    assert all(ord(c) < 128 for c in text), text
    return [i for w in WORD.findall(text) for i in bpe(w)]


class Chunker(ex.ChunkerExcerpt):
    chunk_length = 75
    id_start, id_end = 49406, 49407
    comma_token = vocab[",</w>"]

    def __init__(self):
        self.hijack = types.SimpleNamespace(embedding_db=ex.EmbeddingDatabaseExcerpt())

    def tokenize(self, texts):
        return [tokenize_text(t) for t in texts]


class Emb:
    def __init__(self, name, vectors):
        self.name, self.vectors = name, vectors


chunker = Chunker()
model = types.SimpleNamespace(cond_stage_model=chunker)
embeddings = {"myemb": 1, "style token": 3, "red": 2, "red apple": 4, "big-one": 40, "cat": 2}
for name, n in embeddings.items():
    chunker.hijack.embedding_db.register_embedding_by_name(Emb(name, n), model, name)

words = "a photo of " + " ".join(["house"] * 70)
prompts = [
    "myemb",
    "a photo of myemb on a table",
    "a red apple and a red car, cat",
    "(myemb:1.3), [style token] in the rain",
    "style tokens and style token",
    "big-one, a dog BREAK myemb",
    words + " big-one",
    words + ", big-one",
    " ".join(["tree"] * 74) + " myemb myemb",
    " ".join(["tree"] * 73) + " style token",
    "cats and cat and catcat",
    "",
]
cases = []
for p in prompts:
    chunks, count = chunker.tokenize_line(p)
    cases.append({"prompt": p, "token_count": count, "chunks": [
        {"tokens": c.tokens, "multipliers": c.multipliers, "fixes": [[f.offset, f.embedding.name] for f in c.fixes]}
        for c in chunks]})
json.dump({"embeddings": embeddings, "cases": cases}, open(out, "w"), indent=None)
print(f"wrote {len(cases)} cases to {out}")
