#!/usr/bin/env bash
# Rebuild every file shipped in data/checkpoints/ from scratch (CPU; about 33 hours on 2 cores).
# Each step resumes where it stopped, so the script can be interrupted and started again.
# STEPS / FACES_IMAGE_STEPS / FACES_R1_FROM / FACES_STEPS / FACES_MOTION_STEPS / FACES_LONG_STEPS / SKY_STEPS /
# ABLATION_STEPS / BF16_STEPS / BALANCED_STEPS / BALANCED_R1_STEPS / BALANCED_MOTION_STEPS /
# BIG_EYES_IMAGE_STEPS / BIG_EYES_MOTION_STEPS / BIG_EYES_LONG_STEPS / HELD_STEPS / BLINKS_STEPS / NEAREST_STEPS /
# XD_STEPS / XD_ABLATION_STEPS / CARPHONE_STEPS / ACTIONS_MOTION_STEPS / EVAL_ABLATION_STEPS
# override the training lengths, W_NEAREST step 12's nearest-path weight
# (the shipped runs stopped on a time budget: each file's JSON records the steps it really ran).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-1200}
FACES_IMAGE_STEPS=${FACES_IMAGE_STEPS:-8000}
FACES_R1_FROM=${FACES_R1_FROM:-6000}  # faces: R1 weight 0.5 up to here, then 0.05
FACES_STEPS=${FACES_STEPS:-800}
FACES_MOTION_STEPS=${FACES_MOTION_STEPS:-800}
FACES_LONG_STEPS=${FACES_LONG_STEPS:-2000}  # the shipped faces run trained on (moved less)
GI4500_MOTION_STEPS=${GI4500_MOTION_STEPS:-2000}
SKY_STEPS=${SKY_STEPS:-220}
ABLATION_STEPS=${ABLATION_STEPS:-230}
BF16_STEPS=${BF16_STEPS:-60}
BALANCED_STEPS=${BALANCED_STEPS:-4000}
BALANCED_R1_STEPS=${BALANCED_R1_STEPS:-6000}
BALANCED_MOTION_STEPS=${BALANCED_MOTION_STEPS:-500}
BIG_EYES_IMAGE_STEPS=${BIG_EYES_IMAGE_STEPS:-2500}
BIG_EYES_MOTION_STEPS=${BIG_EYES_MOTION_STEPS:-500}
BIG_EYES_LONG_STEPS=${BIG_EYES_LONG_STEPS:-1600}  # the big-eyes run trained on (eyes moved less)
HELD_STEPS=${HELD_STEPS:-500}  # the big-eyes runs whose discriminators also play real against held-open eyes
BLINKS_STEPS=${BLINKS_STEPS:-"500 1500 3000"}  # the stages kept of the run on toy:faces_big_eyes_blinks
NEAREST_STEPS=${NEAREST_STEPS:-3900}  # step 12: the loop with the nearest-path term, from the graft at 3,250
W_NEAREST=${W_NEAREST:-0.03}  # its weight (0.01 lost blinks slowly: notebook A1)
NEAREST_NOTE=${NEAREST_NOTE:-"Not the paper's loop alone: make_checkpoints.sh step 12 (the paper's loop within reach to 3,250, the LSTM trained alone by nearest paths and grafted in, then the paper's loop with --w-nearest $W_NEAREST)."}
RUNS=${RUNS:-runs/checkpoints}
export OMP_WAIT_POLICY=PASSIVE  # threads yield when the cores are shared

# A run shipped at several stages trains on in one folder; each stage is shipped from a copy of
# the folder made when the run reached it, so running the script again ships the same weights.
stage() {  # run-folder steps
  if [ ! -d "$1_at$2" ]; then
    local step
    step=$($PY -c 'import sys, torch; print(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["step"])' \
           "$1/checkpoint.pt")
    if [ "$step" != "$2" ]; then
      echo "$1 is at step $step, not $2, and $1_at$2 is missing: train that stage again in a new RUNS folder" >&2
      exit 1
    fi
    cp -r "$1" "$1_at$2"
  fi
}

# 1. The feature network behind FD_toy (needed by step 2's measurements).
[ -f data/checkpoints/toy_features.pt ] || $PY -m mocohd.metrics.toy_features_train train --out data/checkpoints/toy_features.pt

# 2. One image generator per toy domain, two at a time (one thread each), then PCA + FD_toy + provenance.
train_image() {  # domain steps bf16 r1
  # --bf16 true: the setting the first 1200 steps were trained with (the preset defaults to fp32)
  $PY -m mocohd.train image --preset full --data "toy:$1" --steps "$2" --ema-kimg 1 --bf16 "$3" --r1 "$4" \
      --ckpt-every 100 --threads 1 --out "$RUNS/image_$1" --resume
}
image() {  # domain steps bf16 r1 [ship flags]
  train_image "$1" "$2" "$3" "$4"
  stage "$RUNS/image_$1" "$2"
  $PY -m mocohd.ship image --domain "$1" --run "$RUNS/image_$1_at$2" "${@:5}"
}
# Faces go on in fp32 (faster than bf16 on a CPU without AMX). The 1200-step stage is kept in
# ablation/ because the MI ablation (step 3) is trained over it, the 4500-step one because the
# first shipped motion generator was. With the preset's R1 weight (0.5) the generator drew heads
# looking straight ahead; from FACES_R1_FROM on, R1 0.05 (StyleGAN2-ADA's 0.0002 * res^2 / batch)
# let the discriminator see head turns, and the generator learned to draw them (notebook 05).
faces_image() {
  image faces "$STEPS" true 0.5 --name faces_64_1200 --out-dir data/checkpoints/ablation
  image faces 4500 false 0.5 --name faces_64_4500 --out-dir data/checkpoints/ablation
  train_image faces "$FACES_R1_FROM" false 0.5
  image faces "$FACES_IMAGE_STEPS" false 0.05
}
# The shut eyes were gone before R1 was weakened; would R1 0.05 from the first step have kept
# them? The same run with R1 0.05 throughout, kept in ablation/ (notebooks A2 and A1).
faces_image_weak_r1() {
  $PY -m mocohd.train image --preset full --data toy:faces --steps "$FACES_IMAGE_STEPS" --ema-kimg 1 --r1 0.05 \
      --ckpt-every 100 --threads 1 --out "$RUNS/image_faces_r1all" --resume
  stage "$RUNS/image_faces_r1all" "$FACES_IMAGE_STEPS"
  $PY -m mocohd.ship image --domain faces --run "$RUNS/image_faces_r1all_at$FACES_IMAGE_STEPS" \
      --name faces_64_r1all --out-dir data/checkpoints/ablation
}
# Shut eyes are rare in natural frames (2% below 0.1); would an even spread of eye openness
# in the training frames keep them? The run with --balance eye_open, bf16, kept after
# BALANCED_STEPS (R1 0.5) and after BALANCED_R1_STEPS (R1 0.05 from BALANCED_STEPS on, and, as a
# control, R1 0.5 kept), in ablation/ (notebooks A2 and A1).
balanced_stage() {  # run-folder steps r1 name: train the balanced run to a stage, keep it, ship it
  $PY -m mocohd.train image --preset full --data toy:faces --balance eye_open --steps "$2" --ema-kimg 1 \
      --bf16 true --r1 "$3" --ckpt-every 100 --threads 1 --out "$1" --resume
  stage "$1" "$2"
  $PY -m mocohd.ship image --domain faces --run "$1_at$2" --name "$4" --out-dir data/checkpoints/ablation
}
faces_image_balanced() {
  local run="$RUNS/image_faces_balanced"
  balanced_stage "$run" "$BALANCED_STEPS" 0.5 "faces_64_balanced_$BALANCED_STEPS"
  balanced_stage "$run" "$BALANCED_R1_STEPS" 0.05 "faces_64_balanced_$BALANCED_R1_STEPS"
  # the control: from the BALANCED_STEPS stage on with R1 0.5 kept (did the weak R1 lose the shut eyes?)
  [ -d "${run}_r05" ] || cp -r "${run}_at$BALANCED_STEPS" "${run}_r05"
  balanced_stage "${run}_r05" "$BALANCED_R1_STEPS" 0.5 "faces_64_balanced_r05_$BALANCED_R1_STEPS"
}
wait_all() { for pid in $(jobs -p); do wait "$pid"; done; }  # a failed group stops the script
(faces_image; image animals "$STEPS" true 0.5) &
(image sky "$STEPS" true 0.5; image actions "$STEPS" true 0.5; faces_image_weak_r1; faces_image_balanced) & wait_all

# Every video run below passes --bf16 true: the shipped runs rendered in bf16, the trainer's
# default before --bf16 auto (which times both on the machine at hand) took its place.
# 3. Motion generators over the frozen generators: the shipped faces one, over the 8000-step
#    faces generator (the same run trained on to FACES_LONG_STEPS, the same run at the
#    official batch of 8, from seeds 1 and 2, and with the official discriminator width, kept in
#    ablation/); the first
#    shipped one, over the 4500-step generator, kept in ablation/ at 800 and 2000 iterations
#    (what longer training buys, and what a better image generator buys); the MI ablation, made twice from
#    the same seed over the 1200-step faces generator, with and without the MI loss (notebook 05),
#    each kept at ABLATION_STEPS and at FACES_STEPS in data/checkpoints/ablation/.
# Every run of steps 3-12 was trained before the PatchGANs' coarse scale followed the
# official width rule: --d-widths flat rebuilds them as they were (step 13 uses the rule).
video() {  # domain steps run-suffix image-generator [extra trainer flags]
  $PY -m mocohd.train video --preset full --data "toy:$1" --image-generator "$4" \
      --steps "$2" --ckpt-every 10 --threads 1 --out "$RUNS/video_$1$3" --resume --d-widths flat --bf16 true "${@:5}"
}
ship_video() {  # domain run-suffix steps [ship flags]
  stage "$RUNS/video_$1$2" "$3"
  $PY -m mocohd.ship video --domain "$1" --run "$RUNS/video_$1$2_at$3" "${@:4}"
}
# Steps 6, 11 and 12 go beyond the paper: the lab's trainer (mocohd.lab.trainer, the paper's loop
# plus the extra games and terms it is given) and its ship command, which records those flags.
lab_video() {  # domain steps run-suffix image-generator [extra trainer flags]
  $PY -m mocohd.lab.trainer --preset full --data "toy:$1" --image-generator "$4" \
      --steps "$2" --ckpt-every 10 --threads 1 --out "$RUNS/video_$1$3" --resume --d-widths flat --bf16 true "${@:5}"
}
ship_lab_video() {  # domain run-suffix steps [ship flags]
  stage "$RUNS/video_$1$2" "$3"
  $PY -m mocohd.lab.ship video --domain "$1" --run "$RUNS/video_$1$2_at$3" "${@:4}"
}
ablation() {  # run-suffix name [extra trainer flags]
  for steps in "$ABLATION_STEPS" "$FACES_STEPS"; do
    video faces "$steps" "$1" data/checkpoints/ablation/faces_64_1200.pt "${@:3}"
    ship_video faces "$1" "$steps" --name "faces_motion_$2_$steps" --out-dir data/checkpoints/ablation
  done
}
bf16() { video faces "$BF16_STEPS" "_bf16_$1_seed$2" data/checkpoints/ablation/faces_64_1200.pt --bf16 "$1" --seed "$2"; }
gi4500() {  # steps
  video faces "$1" _gi4500 data/checkpoints/ablation/faces_64_4500.pt
  ship_video faces _gi4500 "$1" --name "faces_motion_gi4500_$1" --out-dir data/checkpoints/ablation
}
(video faces "$FACES_MOTION_STEPS" "" data/checkpoints/faces_64.pt
 ship_video faces "" "$FACES_MOTION_STEPS"
 video faces "$FACES_LONG_STEPS" "" data/checkpoints/faces_64.pt
 ship_video faces "" "$FACES_LONG_STEPS" --name "faces_motion_$FACES_LONG_STEPS" --out-dir data/checkpoints/ablation
 gi4500 800; gi4500 "$GI4500_MOTION_STEPS"
 video faces "$FACES_MOTION_STEPS" _b8 data/checkpoints/faces_64.pt --batch 8
 ship_video faces _b8 "$FACES_MOTION_STEPS" --name "faces_motion_b8_$FACES_MOTION_STEPS" --out-dir data/checkpoints/ablation
 for s in 1 2; do
   video faces "$FACES_MOTION_STEPS" "_seed$s" data/checkpoints/faces_64.pt --seed "$s"
   ship_video faces "_seed$s" "$FACES_MOTION_STEPS" --name "faces_motion_seed${s}_$FACES_MOTION_STEPS" --out-dir data/checkpoints/ablation
 done
 video faces "$FACES_MOTION_STEPS" _ndf64 data/checkpoints/faces_64.pt --ndf 64
 ship_video faces _ndf64 "$FACES_MOTION_STEPS" --name "faces_motion_ndf64_$FACES_MOTION_STEPS" --out-dir data/checkpoints/ablation) &
(ablation _mi mi
 # the shipped faces run's settings over the eye-balanced image generator: does it blink?
 video faces "$BALANCED_MOTION_STEPS" _balanced4000 data/checkpoints/ablation/faces_64_balanced_4000.pt
 ship_video faces _balanced4000 "$BALANCED_MOTION_STEPS" --name "faces_motion_balanced4000_$BALANCED_MOTION_STEPS" \
     --out-dir data/checkpoints/ablation
 # ...and over its 6,000-step stage, to the shipped run's full length
 video faces "$FACES_MOTION_STEPS" _balanced6000 data/checkpoints/ablation/faces_64_balanced_6000.pt
 ship_video faces _balanced6000 "$FACES_MOTION_STEPS" --name "faces_motion_balanced6000_$FACES_MOTION_STEPS" \
     --out-dir data/checkpoints/ablation) &
wait_all
(ablation _nomi nomi --no-mi) &
(video sky "$SKY_STEPS" "" data/checkpoints/sky_64.pt; ship_video sky "" "$SKY_STEPS"
 # 4. bf16 rendering's effect on a trained result: BF16_STEPS iterations of the faces run in
 #    fp32 against bf16 (the seed-to-seed difference in bf16 gives the scale).
 bf16 false 0; bf16 true 0; bf16 true 1) &
wait_all
$PY -m mocohd.ship compare --domain faces --runs "with MI=$RUNS/video_faces_mi" "without MI=$RUNS/video_faces_nomi" \
    --json data/checkpoints/ablation/mi_ablation.json
$PY -m mocohd.ship compare --domain faces --runs "fp32, seed 0=$RUNS/video_faces_bf16_false_seed0" \
    "bf16, seed 0=$RUNS/video_faces_bf16_true_seed0" "bf16, seed 1=$RUNS/video_faces_bf16_true_seed1" \
    --json data/checkpoints/ablation/bf16_training.json

# 5. Toy faces whose blink a 64 px discriminator can see (toy:faces_big_eyes: eyes 1.6x larger,
#    shut 3 frames longer; notebook A1): an image generator trained from scratch on
#    frames with their eye openness spread evenly, as the balanced faces run, kept at the stage
#    where it drew shut eyes (its share of shut eyes rises and falls: 2,000 steps 2.5 %, 2,500
#    11.9 %, 3,000 2.5 %), then a motion generator over it with the shipped faces run's settings
#    and seed, stopped at BIG_EYES_MOTION_STEPS iterations as the balanced 4,000 one.
$PY -m mocohd.train image --preset full --data toy:faces_big_eyes --balance eye_open --steps "$BIG_EYES_IMAGE_STEPS" \
    --ema-kimg 1 --bf16 true --ckpt-every 100 --threads 2 --out "$RUNS/image_faces_big_eyes" --resume
stage "$RUNS/image_faces_big_eyes" "$BIG_EYES_IMAGE_STEPS"
$PY -m mocohd.ship image --domain faces_big_eyes --run "$RUNS/image_faces_big_eyes_at$BIG_EYES_IMAGE_STEPS"
video faces_big_eyes "$BIG_EYES_MOTION_STEPS" "" data/checkpoints/faces_big_eyes_64.pt
ship_video faces_big_eyes "" "$BIG_EYES_MOTION_STEPS"
#    The same run trained on to BIG_EYES_LONG_STEPS, kept in ablation/: does longer training
#    turn the discriminators' answer to a blink round? (It did not: notebook A1.)
video faces_big_eyes "$BIG_EYES_LONG_STEPS" "" data/checkpoints/faces_big_eyes_64.pt
ship_video faces_big_eyes "" "$BIG_EYES_LONG_STEPS" --name "faces_big_eyes_motion_$BIG_EYES_LONG_STEPS" \
    --out-dir data/checkpoints/ablation

# 6. Not in the paper: the big-eyes run (step 5's settings and seed) with discriminators taught
#    what a blink is. --held-fakes eye_open gives the 3D D a second game, real clips against the
#    same clips with the eyes held open (weight 1, then 5); --held-image true lets the image D
#    play it too. Do the eyes start to reopen? (Notebook A1.)
held() {  # run-suffix name [extra trainer flags]
  lab_video faces_big_eyes "$HELD_STEPS" "$1" data/checkpoints/faces_big_eyes_64.pt --held-fakes eye_open "${@:3}"
  ship_lab_video faces_big_eyes "$1" "$HELD_STEPS" --name "faces_big_eyes_motion_$2_$HELD_STEPS" \
      --out-dir data/checkpoints/ablation
}
held _held held
held _held5 held5 --w-held 5
held _heldboth heldboth --held-image true

# 7. The blink alone: step 5's settings and seed on toy:faces_big_eyes_blinks, the same clips
#    with the blink as their only motion (mouth shut, head still), over the same image
#    generator, kept at each of BLINKS_STEPS. With nothing else to learn, does the paper's loop
#    find the blink? (Notebook A1.)
for steps in $BLINKS_STEPS; do
  video faces_big_eyes_blinks "$steps" "" data/checkpoints/faces_big_eyes_64.pt
  ship_video faces_big_eyes_blinks "" "$steps" --name "faces_big_eyes_blinks_motion_$steps" \
      --out-dir data/checkpoints/ablation
done

# 8. A smoother image generator: step 5's image run with StyleGAN2's path-length regulariser
#    on (--path-regularize 2, rosinality's and the official weight; the other shipped G_Is
#    leave it off for speed), and step 7's blink-alone run over it for BIG_EYES_MOTION_STEPS.
#    Does a G_I whose images are closer to real let the paper's loop find the blink?
#    (It did not: notebook A1.)
$PY -m mocohd.train image --preset full --data toy:faces_big_eyes --balance eye_open --steps "$BIG_EYES_IMAGE_STEPS" \
    --ema-kimg 1 --bf16 true --path-regularize 2 --ckpt-every 100 --threads 2 --out "$RUNS/image_faces_big_eyes_pl2" --resume
stage "$RUNS/image_faces_big_eyes_pl2" "$BIG_EYES_IMAGE_STEPS"
$PY -m mocohd.ship image --domain faces_big_eyes --run "$RUNS/image_faces_big_eyes_pl2_at$BIG_EYES_IMAGE_STEPS" \
    --name faces_big_eyes_64_pl2 --out-dir data/checkpoints/ablation
video faces_big_eyes_blinks "$BIG_EYES_MOTION_STEPS" _pl2 data/checkpoints/ablation/faces_big_eyes_64_pl2.pt
ship_video faces_big_eyes_blinks _pl2 "$BIG_EYES_MOTION_STEPS" --name "faces_big_eyes_blinks_pl2_motion_$BIG_EYES_MOTION_STEPS" \
    --out-dir data/checkpoints/ablation

# 9. The discriminators at half G_I's frame size, as the official code pools a 256 px generator's
#    frames to 128 (--video-frame-size 32 beside the 64 px G_I; real clips drawn at 64 px and
#    pooled alike): step 7's blink-alone run otherwise unchanged. The eyes move more; the
#    pictures still give the fakes away (notebook A1).
video faces_big_eyes_blinks "$BIG_EYES_MOTION_STEPS" _d32 data/checkpoints/faces_big_eyes_64.pt --video-frame-size 32
ship_video faces_big_eyes_blinks _d32 "$BIG_EYES_MOTION_STEPS" --name "faces_big_eyes_blinks_d32_motion_$BIG_EYES_MOTION_STEPS" \
    --out-dir data/checkpoints/ablation

# 10. An image generator of the blink-alone world itself (toy:faces_big_eyes_blinks frames: mouth
#     shut, head straight, eye openness balanced), so that G_I draws no pose the real clips never
#     show, and step 9's run (discriminators at 32 px) over it, then at 64 px.
$PY -m mocohd.train image --preset full --data toy:faces_big_eyes_blinks --balance eye_open --steps "$BIG_EYES_IMAGE_STEPS" \
    --ema-kimg 1 --bf16 true --ckpt-every 100 --threads 2 --out "$RUNS/image_faces_big_eyes_blinks" --resume
stage "$RUNS/image_faces_big_eyes_blinks" "$BIG_EYES_IMAGE_STEPS"
$PY -m mocohd.ship image --domain faces_big_eyes_blinks --run "$RUNS/image_faces_big_eyes_blinks_at$BIG_EYES_IMAGE_STEPS" \
    --name faces_big_eyes_blinks_64 --out-dir data/checkpoints/ablation
video faces_big_eyes_blinks "$BIG_EYES_MOTION_STEPS" _gib_d32 data/checkpoints/ablation/faces_big_eyes_blinks_64.pt \
    --video-frame-size 32
ship_video faces_big_eyes_blinks _gib_d32 "$BIG_EYES_MOTION_STEPS" \
    --name "faces_big_eyes_blinks_gib_d32_motion_$BIG_EYES_MOTION_STEPS" --out-dir data/checkpoints/ablation
video faces_big_eyes_blinks "$BIG_EYES_MOTION_STEPS" _gib data/checkpoints/ablation/faces_big_eyes_blinks_64.pt
ship_video faces_big_eyes_blinks _gib "$BIG_EYES_MOTION_STEPS" \
    --name "faces_big_eyes_blinks_gib_motion_$BIG_EYES_MOTION_STEPS" --out-dir data/checkpoints/ablation

# 11. A control, not the paper: step 10's 32 px run with real clips whose blinks G_I itself drew
#     (--steered-real true, mocohd.lab.steered: each toy clip's eye openness moves a face G_I
#     drew towards the point that shuts its eyes), so that real and fake frames share their
#     pictures and only motion can tell them apart (notebook A1). Kept at each of
#     BLINKS_STEPS.
#     (data/checkpoints/states/faces_big_eyes_blinks_steered_d32/ keeps the run's whole state at
#     2,650 iterations, made by `python -m mocohd.lab.ship state`, for training it on by hand.)
for steps in $BLINKS_STEPS; do
  lab_video faces_big_eyes_blinks "$steps" _steered_d32 data/checkpoints/ablation/faces_big_eyes_blinks_64.pt \
      --video-frame-size 32 --steered-real true
  ship_lab_video faces_big_eyes_blinks _steered_d32 "$steps" --name "faces_big_eyes_blinks_steered_d32_motion_$steps" \
      --out-dir data/checkpoints/ablation
done

# 12. Not in the paper: a faces motion generator that blinks (data/checkpoints/faces_blinks_motion.pt;
#     notebooks 05 and A1). The paper's loop neither finds a blink from still eyes nor
#     keeps one it is given; this run keeps the paper's losses and adds one term that pays for
#     every real blink (--w-nearest: implicit maximum likelihood on the steered blinks' latent
#     paths, mocohd.lab.path_game.nearest_path_loss). Three stages, from the shipped state of
#     step 11 at 2,650 iterations:
#     a. the paper's loop on 320 steered clips slowed within reach, to 3,250;
#     b. the LSTM alone pulled to the same clips' paths (no discriminator, 6,000 iterations),
#        grafted into a's checkpoint (its discriminators, a fresh Adam for the LSTM);
#     c. the paper's loop from that graft with the nearest-path term on, to NEAREST_STEPS.
STATE=data/checkpoints/states/faces_big_eyes_blinks_steered_d32/checkpoint.pt
REACH="$RUNS/video_faces_big_eyes_blinks_reach"
[ -f "$REACH/checkpoint.pt" ] || { mkdir -p "$REACH"; cp "$STATE" "$REACH/checkpoint.pt"; }
lab_video faces_big_eyes_blinks 3250 _reach data/checkpoints/ablation/faces_big_eyes_blinks_64.pt \
    --video-frame-size 32 --steered-real true --steered-within-reach true --n-clips 320
stage "$REACH" 3250
$PY -m mocohd.lab.path_game "$STATE" --out "$RUNS/nearest_paths" --objective nearest --within-reach --lr 1e-3 \
    --steps 6000 --n-real 320 --threads 1 --resume --graft "${REACH}_at3250/checkpoint.pt"
NEAREST="$RUNS/video_faces_big_eyes_blinks_nearest"
[ -f "$NEAREST/checkpoint.pt" ] || { mkdir -p "$NEAREST"; cp "$RUNS/nearest_paths/checkpoint.pt" "$NEAREST/"; }
lab_video faces_big_eyes_blinks "$NEAREST_STEPS" _nearest data/checkpoints/ablation/faces_big_eyes_blinks_64.pt \
    --video-frame-size 32 --steered-real true --steered-within-reach true --n-clips 320 --w-nearest "$W_NEAREST"
ship_lab_video faces_big_eyes_blinks _nearest "$NEAREST_STEPS" --name faces_blinks_motion --note "$NEAREST_NOTE"

# 13. Cross-domain synthesis (notebook 06): content from the animals image generator (trained
#     on single frames only), motion from toy-faces clips, seen only by the 3D D; the paper's
#     loop with --cross-domain true and the official PatchGAN widths. Shipped at XD_STEPS
#     (animals_from_faces_motion.pt); its first XD_ABLATION_STEPS iterations are the seed-0
#     "with contrastive" arm of the ablation, whose other runs (seeds 1 and 2 with, seeds 0-2
#     with --no-contrastive) stop there too, in ablation/. Then the carphone demo: the toy-faces
#     generator moved by the one real clip (--data carphone), and the measurements of notebook
#     06 (identity drift of every arm, what the 3D D judges) in ablation/cross_domain.json.
XD_STEPS=${XD_STEPS:-200}
XD_ABLATION_STEPS=${XD_ABLATION_STEPS:-60}
CARPHONE_STEPS=${CARPHONE_STEPS:-100}
xd() {  # run-suffix steps [extra trainer flags]
  $PY -m mocohd.train video --preset full --data toy:faces --image-generator data/checkpoints/animals_64.pt \
      --cross-domain true --steps "$2" --ckpt-every 10 --threads 1 --out "$RUNS/video_faces_xd_animals$1" --resume \
      --bf16 true "${@:3}"
}
ship_xd() {  # run-suffix steps name [ship flags]
  stage "$RUNS/video_faces_xd_animals$1" "$2"
  $PY -m mocohd.ship video --domain faces --run "$RUNS/video_faces_xd_animals$1_at$2" --name "$3" "${@:4}"
}
(xd "" "$XD_ABLATION_STEPS"
 ship_xd "" "$XD_ABLATION_STEPS" animals_from_faces_motion_seed0_"$XD_ABLATION_STEPS" --out-dir data/checkpoints/ablation
 xd "" "$XD_STEPS"
 ship_xd "" "$XD_STEPS" animals_from_faces_motion
 $PY -m mocohd.train video --preset full --data carphone --image-generator data/checkpoints/faces_64.pt \
     --cross-domain true --steps "$CARPHONE_STEPS" --ckpt-every 10 --threads 1 --out "$RUNS/video_carphone_xd_faces" --resume \
     --bf16 true
 stage "$RUNS/video_carphone_xd_faces" "$CARPHONE_STEPS"
 $PY -m mocohd.ship video --domain carphone --run "$RUNS/video_carphone_xd_faces_at$CARPHONE_STEPS" \
     --name faces_from_carphone_motion) &
(for s in 0 1 2; do
   xd "_nocontrastive_seed$s" "$XD_ABLATION_STEPS" --seed "$s" --no-contrastive
   ship_xd "_nocontrastive_seed$s" "$XD_ABLATION_STEPS" "animals_from_faces_motion_nocontrastive_seed${s}_$XD_ABLATION_STEPS" \
       --out-dir data/checkpoints/ablation
   if [ "$s" != 0 ]; then
     xd "_seed$s" "$XD_ABLATION_STEPS" --seed "$s"
     ship_xd "_seed$s" "$XD_ABLATION_STEPS" "animals_from_faces_motion_seed${s}_$XD_ABLATION_STEPS" \
         --out-dir data/checkpoints/ablation
   fi
 done) &
wait_all
A=data/checkpoints/ablation
$PY -m mocohd.metrics.cross_domain --json "$A/cross_domain.json" --arm \
    "with contrastive=animals:$A/animals_from_faces_motion_seed0_$XD_ABLATION_STEPS.pt" \
    "with contrastive=animals:$A/animals_from_faces_motion_seed1_$XD_ABLATION_STEPS.pt" \
    "with contrastive=animals:$A/animals_from_faces_motion_seed2_$XD_ABLATION_STEPS.pt" \
    "w/o contrastive=animals:$A/animals_from_faces_motion_nocontrastive_seed0_$XD_ABLATION_STEPS.pt" \
    "w/o contrastive=animals:$A/animals_from_faces_motion_nocontrastive_seed1_$XD_ABLATION_STEPS.pt" \
    "w/o contrastive=animals:$A/animals_from_faces_motion_nocontrastive_seed2_$XD_ABLATION_STEPS.pt" \
    "shipped cross-domain=animals:data/checkpoints/animals_from_faces_motion.pt" \
    "in-domain faces=faces:data/checkpoints/faces_motion.pt" \
  --gap "with contrastive=$RUNS/video_faces_xd_animals_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "with contrastive=$RUNS/video_faces_xd_animals_seed1_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "with contrastive=$RUNS/video_faces_xd_animals_seed2_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "w/o contrastive=$RUNS/video_faces_xd_animals_nocontrastive_seed0_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "w/o contrastive=$RUNS/video_faces_xd_animals_nocontrastive_seed1_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "w/o contrastive=$RUNS/video_faces_xd_animals_nocontrastive_seed2_at$XD_ABLATION_STEPS/checkpoint.pt" \
    "shipped cross-domain=$RUNS/video_faces_xd_animals_at$XD_STEPS/checkpoint.pt"

# 14. Evaluation (notebook 08): the toy video classifier behind FVD_toy and IS_toy, a motion
#     generator for the UCF-101 analogue (toy:actions over actions_64.pt), and the MI ablation
#     over faces_64.pt: the full loop against --no-mi, seeds 0-2, EVAL_ABLATION_STEPS each
#     (official PatchGAN widths, as step 13).
ACTIONS_MOTION_STEPS=${ACTIONS_MOTION_STEPS:-120}
EVAL_ABLATION_STEPS=${EVAL_ABLATION_STEPS:-60}
$PY -m mocohd.metrics.toy_video_net_train train --out data/checkpoints/toy_video_net.pt
eval_video() {  # run-suffix steps domain image-generator [extra trainer flags]
  $PY -m mocohd.train video --preset full --data "toy:$3" --image-generator "$4" --steps "$2" --ckpt-every 10 \
      --threads 1 --out "$RUNS/video_$3$1" --resume --bf16 true "${@:5}"
}
(eval_video "" "$ACTIONS_MOTION_STEPS" actions data/checkpoints/actions_64.pt
 ship_video actions "" "$ACTIONS_MOTION_STEPS"
 eval_video _ev_full_seed2 "$EVAL_ABLATION_STEPS" faces data/checkpoints/faces_64.pt --seed 2
 eval_video _ev_nomi_seed2 "$EVAL_ABLATION_STEPS" faces data/checkpoints/faces_64.pt --seed 2 --no-mi) &
(for s in 0 1; do
   eval_video "_ev_full_seed$s" "$EVAL_ABLATION_STEPS" faces data/checkpoints/faces_64.pt --seed "$s"
   eval_video "_ev_nomi_seed$s" "$EVAL_ABLATION_STEPS" faces data/checkpoints/faces_64.pt --seed "$s" --no-mi
 done) &
wait_all
for s in 0 1 2; do
  for arm in full nomi; do
    ship_video faces "_ev_${arm}_seed$s" "$EVAL_ABLATION_STEPS" --name "faces_motion_${arm}_seed${s}_$EVAL_ABLATION_STEPS" \
        --out-dir data/checkpoints/ablation
  done
done
