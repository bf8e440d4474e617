"""The trial's compact vocabulary: only the tokens the text uses, or the most frequent N−1 and one shared id."""

import numpy as np

from curate.trial.model import build_vocab


def test_every_token_the_text_uses_gets_its_own_id():
    vocab, rows = build_vocab([[7, 3, 7], [900]])
    assert vocab.size == 3 and not vocab.shared
    assert [r.tolist() for r in rows] == [[1, 0, 1], [2]]


def test_a_limit_keeps_the_most_frequent_training_tokens_and_shares_one_id():
    train = [[5, 5, 5, 9, 9, 2], [2, 2, 2, 2]]
    held = [[9, 11, 5]]  # 11 never occurs in training: it gets the shared id
    vocab, rows = build_vocab(train + held, counted=2, max_size=3)
    assert vocab.size == 3 and vocab.shared and vocab.tokenizer_ids.tolist() == [2, 5]  # 2 (×5) and 5 (×3) beat 9 (×2)
    assert [r.tolist() for r in rows] == [[1, 1, 1, 2, 2, 0], [0, 0, 0, 0], [2, 2, 1]]
    assert all(r.max() < vocab.size for r in rows)


def test_ties_go_to_the_smaller_token_id_and_held_out_counts_do_not_choose():
    vocab, _ = build_vocab([[4, 8], [3, 3, 3, 3, 3, 3]], counted=1, max_size=2)
    assert vocab.tokenizer_ids.tolist() == [4]
    assert isinstance(vocab.tokenizer_ids, np.ndarray)
