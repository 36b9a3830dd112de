"""Small sampled kits written on the fly: one-shot samples whose frequency says which
layer played, in Hydrogen, SFZ and kit.toml form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

SR = 44100


def one_shot(path: Path, freq: float, seconds: float = 0.3, sr: int = SR, noise: bool = False,
             stereo: bool = False, seed: int = 0) -> Path:
    """A decaying sine (or noise) burst that starts at its first sample."""
    t = np.arange(int(seconds * sr)) / sr
    envelope = np.exp(-t * 6.0 / seconds)
    if noise:
        tone = np.random.default_rng(seed).uniform(-1, 1, t.size)
    else:
        tone = np.sin(2 * np.pi * freq * t)
    audio = (0.5 * envelope * tone).astype(np.float32)
    if stereo:  # right channel quieter: a stereo image the sampler must keep
        audio = np.stack([audio, 0.25 * audio], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio, sr, subtype="FLOAT" if path.suffix == ".wav" else "PCM_24")
    return path


def hydrogen_layer(filename: str, lo: float, hi: float) -> str:
    return (f"<layer><filename>{filename}</filename><min>{lo}</min><max>{hi}</max>"
            "<gain>1</gain><pitch>0</pitch></layer>")


def write_hydrogen_kit(folder: Path, name: str = "TestKit", *, skip: tuple[str, ...] = (),
                       licence: str = "CC0", old_layout: bool = False) -> Path:
    """A Hydrogen kit: kick with two velocity layers (60 Hz soft, 90 Hz hard), a snare
    with two round-robin layers (200, 300 Hz), closed/open hats (noise), a tom and a crash.
    Instruments named in `skip` are left out."""
    folder.mkdir(parents=True, exist_ok=True)
    one_shot(folder / "kick_soft.flac", 60)
    one_shot(folder / "kick_hard.flac", 90)
    one_shot(folder / "snare_a.flac", 200)
    one_shot(folder / "snare_b.flac", 300)
    one_shot(folder / "hat_closed.flac", 0, 0.08, noise=True, seed=1)
    one_shot(folder / "hat_open.flac", 0, 1.5, noise=True, seed=2, stereo=True)
    one_shot(folder / "tom.flac", 120, 0.5)
    one_shot(folder / "crash.flac", 0, 1.5, noise=True, seed=3)
    if old_layout:
        layers = {"Kick": "<filename>kick_hard.flac</filename>",
                  "Snare": "<filename>snare_a.flac</filename>",
                  "Closed HH": "<filename>hat_closed.flac</filename>",
                  "Open HH": "<filename>hat_open.flac</filename>",
                  "Tom Mid": "<filename>tom.flac</filename>",
                  "Crash": "<filename>crash.flac</filename>"}
    else:
        layers = {"Kick": hydrogen_layer("kick_soft.flac", 0, 0.5)
                  + hydrogen_layer("kick_hard.flac", 0.5, 1),
                  "Snare": hydrogen_layer("snare_a.flac", 0, 1) + hydrogen_layer("snare_b.flac", 0, 1),
                  "Closed HH": hydrogen_layer("hat_closed.flac", 0, 1),
                  "Open HH": hydrogen_layer("hat_open.flac", 0, 1),
                  "Tom Mid": hydrogen_layer("tom.flac", 0, 1),
                  "Crash": hydrogen_layer("crash.flac", 0, 1)}
    instruments = "".join(
        f"<instrument><id>{i}</id><name>{n}</name><volume>1</volume><pan_L>1</pan_L>"
        f"<pan_R>1</pan_R><gain>1</gain><muteGroup>-1</muteGroup>{body}</instrument>"
        for i, (n, body) in enumerate(layers.items()) if n not in skip)
    path = folder / "drumkit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">'
        f"<name>{name}</name><author>Test Author</author><license>{licence}</license>"
        f"<instrumentList>{instruments}</instrumentList></drumkit_info>\n")
    return path


SFZ_PIECES: dict[str, str] = {
    "kick": "<group> group_label=kick key=36\n<region> sample=kick.wav\n",
    "snare": "<group> group_label=snare key=38\n<region> sample=snare.wav\n",
    "hat": "<group> group_label=closed hat key=42 group=1\n<region> sample=hh.wav\n"
           "<group> group_label=open hat key=46 off_by=1\n<region> sample=oh.wav\n",
    "tom": "<group> group_label=tom key=45\n<region> sample=tom.wav\n",
    "crash": "<group> group_label=crash key=49\n<region> sample=crash.wav\n",
}


def write_sfz_kit(folder: Path, name: str = "kit.sfz", *,
                  pieces: tuple[str, ...] = ("kick", "snare", "hat", "tom", "crash"),
                  toms: str | None = None) -> Path:
    """An SFZ kit that passes the kit check: a 55 Hz kick, a 200 Hz snare, noise hats,
    a 120 Hz tom, a noise crash; only `pieces` (of SFZ_PIECES) are written, and `toms`
    replaces the tom's <group> block (written before the crash's)."""
    samples = folder / "samples"
    one_shot(samples / "kick.wav", 55)
    one_shot(samples / "snare.wav", 200)
    one_shot(samples / "hh.wav", 0, 0.08, noise=True, seed=1)
    one_shot(samples / "oh.wav", 0, 1.0, noise=True, seed=2)
    one_shot(samples / "tom.wav", 120, 0.5)
    one_shot(samples / "crash.wav", 0, 1.5, noise=True, seed=3)
    blocks = [toms if piece == "tom" and toms is not None else SFZ_PIECES[piece]
              for piece in pieces]
    path = folder / name
    path.write_text("<control> default_path=samples/\n" + "".join(blocks))
    return path
