"""The toy world: shapes, ranges, determinism, factors that match what is drawn, bad input."""


import pytest
import torch

from mocohd.data import toyworld
from mocohd.data.toyworld import (ACTIONS, DOMAINS, SPECIES, ToyImageDataset, ToyVideoDataset, balanced_images,
                                  cached_clips, flatten_indices,
                                  check_toy_args, make_clips, make_images)

N, T, S = 6, 12, 32


@pytest.fixture(scope="module")
def clips():
    return {d: make_clips(d, N, frames=T, size=S, seed=1) for d in DOMAINS}


@pytest.mark.parametrize("domain", DOMAINS)
def test_shapes_ranges_and_factor_names(clips, domain):
    c = clips[domain]
    assert c.video.shape == (N, T, 3, S, S) and c.video.dtype == torch.float32
    assert c.video.min() >= -1 and c.video.max() <= 1
    assert c.identity.shape == (N, len(c.identity_names))
    assert c.motion.shape == (N, T, len(c.motion_names))
    assert c.label.shape == (N,) and c.label.dtype == torch.long
    assert torch.isfinite(c.identity).all() and torch.isfinite(c.motion).all()
    assert c.to_uint8().shape == (N, T, S, S, 3) and c.to_uint8().dtype == torch.uint8
    assert c.video.std() > 0.1  # a picture, not a flat colour


@pytest.mark.parametrize("domain", DOMAINS)
def test_clips_move_and_differ_from_each_other(clips, domain):
    video = clips[domain].video
    frame_change = (video[:, 1:] - video[:, :-1]).abs().mean()
    clip_difference = (video[1:, 0] - video[:-1, 0]).abs().mean()
    assert frame_change > 1e-3  # motion
    assert clip_difference > 5 * frame_change  # content changes more between clips than between frames


@pytest.mark.parametrize("domain", DOMAINS)
def test_seeded(domain):
    a = make_clips(domain, 3, frames=4, size=S, seed=7)
    b = make_clips(domain, 3, frames=4, size=S, seed=7)
    c = make_clips(domain, 3, frames=4, size=S, seed=8)
    assert torch.equal(a.video, b.video) and torch.equal(a.motion, b.motion)
    assert not torch.equal(a.video, c.video)


def test_whole_chunks_do_not_depend_on_batch_size():
    a = make_clips("sky", toyworld.CHUNK, frames=2, size=S, seed=3)
    b = make_clips("sky", toyworld.CHUNK + 2, frames=2, size=S, seed=3)
    assert torch.equal(a.video, b.video[:toyworld.CHUNK])


def test_whole_chunks_are_shared_between_calls():
    from mocohd.data.toyworld import CHUNK
    small, big = make_clips("sky", CHUNK, frames=2, size=S), make_clips("sky", CHUNK + 3, frames=2, size=S)
    assert torch.equal(small.video, big.video[:CHUNK])


def test_face_factors_are_what_is_drawn():
    c = make_clips("faces", 32, frames=64, size=S, seed=0)
    eye, mouth, yaw, pitch = c.motion.unbind(-1)
    assert c.motion_names == ["eye_open", "mouth_open", "yaw", "pitch"]
    assert 0 <= eye.min() and eye.max() <= 1 and 0 <= mouth.min() and mouth.max() <= 1
    assert (eye.min(1).values < 0.3).float().mean() > 0.8  # almost every clip blinks in 64 frames
    talking = mouth.max(1).values > 0.3
    assert 0.4 < talking.float().mean() < 0.95  # most, not all, talk
    # the lower face changes more while the mouth moves than while it stays shut
    lower = c.video[..., S // 2:, :]
    change = (lower[:, 1:] - lower[:, :-1]).abs().mean((2, 3, 4))
    mouth_moves = (mouth[:, 1:] - mouth[:, :-1]).abs()
    assert change[mouth_moves > 0.1].mean() > change[mouth_moves < 0.01].mean()


def test_labels_cover_every_class():
    animals = make_clips("animals", 40, frames=1, size=S, seed=0)
    actions = make_clips("actions", 50, frames=2, size=S, seed=0)
    assert animals.label_names == SPECIES and set(animals.label.tolist()) == set(range(len(SPECIES)))
    assert actions.label_names == ACTIONS and set(actions.label.tolist()) == set(range(len(ACTIONS)))
    assert torch.equal(animals.identity[:, 0].long(), animals.label)  # species is the first identity factor
    assert make_clips("faces", 4, frames=2, size=S).label.eq(0).all()


def test_sky_light_and_wind():
    c = make_clips("sky", 8, frames=16, size=S, seed=0)
    light, wind, drift = c.motion.unbind(-1)
    assert c.motion_names == ["light", "wind", "cloud_drift"]
    assert (wind == wind[:, :1]).all()  # wind is constant within a clip
    assert torch.allclose(drift, wind * torch.arange(16.0))  # clouds drift with the wind
    brightness = c.video.mean((2, 3, 4))
    rate = light[:, -1] - light[:, 0]
    assert ((brightness[:, -1] - brightness[:, 0]) * rate > 0).float().mean() >= 0.75  # brighter as light rises


def test_images_and_sizes():
    images = make_images("animals", 4, size=64, seed=0)
    assert images.video.shape == (4, 1, 3, 64, 64)
    assert make_clips("sky", 1, frames=2, size=128).video.shape == (1, 2, 3, 128, 128)


@pytest.mark.parametrize("args, message", [
    (("dogs", 64, 16), "unknown toy-world domain 'dogs'; choose one of faces, animals, sky, actions, faces_big_eyes, "
                        "faces_big_eyes_blinks"),
    (("faces", 48, 16), "power of two.*48"),
    (("faces", 16, 16), "from 32 to 256.*16"),
    (("faces", 512, 16), "from 32 to 256"),
    (("faces", 64, 0), "frames must be an int from 1 to 256"),
])
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        check_toy_args(*args)
    with pytest.raises(ValueError, match=message):
        make_clips(args[0], 1, frames=args[2], size=args[1])


def test_supersample_draws_larger_and_pools_as_the_trainer_pools_fakes(tmp_path):
    from mocohd.train.video_gan import pool_to_size

    large = make_clips("faces_big_eyes_blinks", 3, frames=4, size=64, seed=5)
    pooled = make_clips("faces_big_eyes_blinks", 3, frames=4, size=32, seed=5, supersample=2)
    assert pooled.video.shape == (3, 4, 3, 32, 32)
    assert torch.allclose(pooled.video, pool_to_size(large.video, 32))
    assert torch.equal(pooled.motion, large.motion) and torch.equal(pooled.identity, large.identity)
    # drawn straight at 32 px, the edges come out otherwise: a cue a small discriminator could read
    assert (make_clips("faces_big_eyes_blinks", 3, frames=4, size=32, seed=5).video - pooled.video).abs().max() > 0.1
    cached = cached_clips("faces_big_eyes_blinks", 3, frames=4, size=32, seed=5, cache_dir=tmp_path, supersample=2)
    assert (cached.video - pooled.video).abs().max() <= 1 / 127.5  # stored as uint8
    assert any("-s32-x2-" in p.name for p in tmp_path.iterdir())
    with pytest.raises(ValueError, match="supersample must be a power of two.*3"):
        make_clips("faces", 1, frames=1, size=32, supersample=3)
    with pytest.raises(ValueError, match="at 512px.*at most 256px"):
        make_clips("faces", 1, frames=1, size=128, supersample=4)


@pytest.mark.parametrize("domain", ["faces", "animals", "faces_big_eyes"])
def test_hold_pins_one_factor_and_keeps_every_other_draw(domain):
    drawn = make_clips(domain, 8, frames=24, size=32, seed=3)
    held = make_clips(domain, 8, frames=24, size=32, seed=3, hold={"eye_open": 1.0})
    eye = drawn.motion_names.index("eye_open")
    assert (drawn.motion[..., eye] < 0.5).any()  # 24 frames hold at least one blink
    assert (held.motion[..., eye] == 1.0).all()
    others = [i for i in range(len(drawn.motion_names)) if i != eye]
    assert torch.equal(held.motion[..., others], drawn.motion[..., others])
    assert torch.equal(held.identity, drawn.identity)
    # frames differ only where a clip blinks, and there only in a small patch (the eyes)
    changed = (held.video - drawn.video).abs().amax(dim=2)  # (B, T, H, W)
    blinking = drawn.motion[..., eye] < 1  # (B, T)
    assert (changed[~blinking] == 0).all() and (changed[blinking] > 0.1).any()
    assert (changed[blinking] > 0.05).float().mean() < 0.1  # soft edges leave faint tails


def test_big_eyes_variant_is_faces_with_a_larger_longer_blink():
    faces = make_clips("faces", 16, frames=32, size=64, seed=5)
    big = make_clips("faces_big_eyes", 16, frames=32, size=64, seed=5)
    eye = faces.motion_names.index("eye_open")
    others = [i for i in range(len(faces.motion_names)) if i != eye]
    # the same people making the same moves; only the blink differs
    assert torch.equal(big.identity, faces.identity) and big.identity_names == faces.identity_names
    assert torch.equal(big.motion[..., others], faces.motion[..., others])
    assert (big.motion[..., eye] <= faces.motion[..., eye] + 1e-6).all()  # every blink starts alike, then lasts longer
    shut = (big.motion[..., eye] < 0.1).sum().item()
    assert shut >= 3 * max((faces.motion[..., eye] < 0.1).sum().item(), 1)

    def blink_pixels(drawn, domain):  # mean pixel change a blink makes
        return (drawn.video - make_clips(domain, 16, frames=32, size=64, seed=5, hold={"eye_open": 1.0}).video).abs().mean()

    assert blink_pixels(big, "faces_big_eyes") > 4 * blink_pixels(faces, "faces")


def test_blinks_variant_is_big_eyes_with_only_the_blink():
    big = make_clips("faces_big_eyes", 16, frames=32, size=64, seed=5)
    blinks = make_clips("faces_big_eyes_blinks", 16, frames=32, size=64, seed=5)
    eye = big.motion_names.index("eye_open")
    assert torch.equal(blinks.identity, big.identity)  # the same people...
    assert torch.equal(blinks.motion[..., eye], big.motion[..., eye])  # ...blinking at the same times
    assert (blinks.motion[..., eye] < 0.1).any()
    still = blinks.motion[..., [i for i in range(len(big.motion_names)) if i != eye]]
    assert (still == 0).all()  # mouth shut, head straight: the resting values
    # with the eyes held open too, nothing moves: every frame is the clip's first
    frozen = make_clips("faces_big_eyes_blinks", 16, frames=32, size=64, seed=5, hold={"eye_open": 1.0}).video
    assert torch.equal(frozen, frozen[:, :1].expand_as(frozen))


def test_hold_bad_input():
    with pytest.raises(ValueError, match="unknown motion factors \\['blink'\\] for faces; choose from eye_open"):
        make_clips("faces", 1, frames=2, size=32, hold={"blink": 1.0})
    with pytest.raises(ValueError, match="not 'sky'; leave hold out"):
        make_clips("sky", 1, frames=2, size=32, hold={"eye_open": 1.0})


def test_cache_round_trip(tmp_path):
    first = cached_clips("actions", 5, frames=4, size=S, seed=2, cache_dir=tmp_path)
    files = list(tmp_path.glob("toy-actions-*.pt"))
    assert len(files) == 1
    again = cached_clips("actions", 5, frames=4, size=S, seed=2, cache_dir=tmp_path)
    # the drawing run hands back the stored uint8 frames too, so a fresh and a cached run see one dataset
    assert torch.equal(again.video, first.video)
    drawn = make_clips("actions", 5, frames=4, size=S, seed=2)
    assert 0 < (drawn.video - first.video).abs().max() <= 1 / 127.5 + 1e-6  # stored as uint8
    assert torch.equal(again.motion, first.motion) and again.label_names == ACTIONS


def test_datasets(tmp_path):
    videos = ToyVideoDataset("faces", n=4, frames=4, size=S, cache_dir=tmp_path)
    item = videos[1]
    assert set(item) == {"video", "identity", "motion", "label"} and item["video"].shape == (4, 3, S, S)
    images = ToyImageDataset("animals", n=3, size=S, cache_dir=None)
    assert len(images) == 3 and images[0].shape == (3, S, S)


def test_flatten_indices_spreads_a_skewed_factor_evenly():
    values = torch.cat([torch.zeros(50), torch.linspace(0.1, 0.99, 450), torch.ones(1500)])  # 75% at the top
    keep = flatten_indices(values, 200, bins=10, seed=0)
    assert len(keep) == 200 and len(set(keep.tolist())) == 200 and torch.equal(keep, keep.sort().values)
    counts = torch.bincount((values[keep] * 10).long().clamp(max=9), minlength=10)
    assert counts.tolist() == [20] * 10  # every bin has 40 or more candidates here
    assert torch.equal(keep, flatten_indices(values, 200, bins=10, seed=0))
    # a bin too thin to give its share gives all it has; the rest comes from the others
    thin = torch.cat([torch.zeros(3), torch.ones(97)])
    assert (thin[flatten_indices(thin, 20, bins=2)] == 0).sum() == 3
    with pytest.raises(ValueError, match="at least n=5 values.*larger pool"):
        flatten_indices(torch.rand(4), 5)


def test_balanced_images_spread_blinks_and_keep_what_was_drawn(tmp_path):
    natural = make_images("faces", 64, size=S, seed=3)
    flat = balanced_images("faces", 64, "eye_open", size=S, seed=3, pool=4, cache_dir=tmp_path)
    assert flat.video.shape == (64, 1, 3, S, S) and flat.motion.shape == (64, 1, 4) and flat.identity.shape[0] == 64
    shut = lambda c: (c.motion[:, 0, 0] < 0.5).float().mean().item()  # noqa: E731
    assert shut(flat) >= 0.3 > shut(natural)
    # the kept frames are frames of the pool, with their own factors: the first chunk is make_images'
    pool = make_images("faces", 64, size=S, seed=3)
    i = (flat.motion[:, 0, 0, None] == pool.motion[None, :, 0, 0]).float().argmax(1)
    match = (flat.motion[:, 0, 0] == pool.motion[i, 0, 0]) & (flat.motion[:, 0, 0] < 1)
    assert match.any()
    assert (flat.video[match] - pool.video[i[match]]).abs().max() <= 1 / 127.5 + 1e-6
    again = balanced_images("faces", 64, "eye_open", size=S, seed=3, pool=4, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("toy-faces-*flat-eye_open*.pt"))) == 1 and torch.equal(again.motion, flat.motion)
    with pytest.raises(ValueError, match="unknown motion factor 'blink'.*eye_open, mouth_open, yaw, pitch"):
        balanced_images("faces", 8, "blink", size=S, cache_dir=None)


def _fill_cache(cache_dir):
    return cached_clips("faces", 64, frames=4, size=S, seed=5, cache_dir=cache_dir).video.sum().item()


def test_processes_filling_one_cache_at_once_all_succeed(tmp_path):
    """torchrun ranks open the same toy dataset together; each writes its own temporary file."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        sums = pool.map(_fill_cache, [tmp_path] * 4)
    assert len(set(sums)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [next(tmp_path.glob("toy-faces-*.pt")).name]  # no temporary left
