"""Every default of spurlab, with the reason for its value, in one table.

:class:`spurlab.Config` takes its defaults from here, and so do the functions a user can call
alone (:func:`spurlab.train`, :class:`spurlab.Line`, :func:`spurlab.make_scenario`), so that
no function restates another's default. A leaf module: it imports nothing.
"""

# Every default, with the reason for its value. The embedded teaching setting: a weak signal
# (a faint line on part of one class) that a tiny CNN learns in seconds on a CPU.
DEFAULTS = {
    # --- data
    "dataset": "shapes",        # embedded, generated in 0.2 s, no download; has latent difficulty
    "n_train": 6000,            # 1,000 per class: enough for the shortcut to show in 5 seeds
    "n_test": 1800,             # 300 per class: SMR resolution ~0.1% over 1,500 stamped images
    "image_size": 16,           # the shapes' native size; 4x cheaper than 32 px
    # --- the spurious feature (its two strength knobs: salience and prevalence)
    "feature": "line",          # the paper's CIFAR-10S feature: a line through the centre
    "salience": 0.5,            # half opacity: learned, yet carriers are not the easiest (weak)
    "orientation": "horizontal",
    "thickness": 1,             # one pixel at 16 px, as thin as the paper's line at 32 px
    "feature_value": 1.0,       # the colour the line is blended toward: white
    "feature_channel": None,    # every colour channel; 0 = red only (the CIFAR-10S reference)
    "target_class": 4,          # c1 = 'ring': a mid-difficulty class of the shapes
    "prevalence": 0.3,          # 30% of c1 carries it: weak enough that carriers spread evenly
    "n_carriers": None,         # an exact count instead of prevalence (claim 2: "100 hardest")
    "placement": "random",      # which c1 samples carry it: random, easiest, hardest, band
    "band_low": 0.0,            # with placement='band': difficulty-percentile range of carriers
    "band_high": 1.0,
    # --- the recipe (one for every model spurlab trains: baseline, arms, reference)
    "model": "tiny",            # ~40k parameters: 16k img/s on 2 CPU cores
    "pretrained": False,        # ImageNet weights (resnet50 only; the CelebA protocol)
    "epochs": 15,               # the tiny CNN's test accuracy plateaus by ~12 epochs
    "batch_size": 128,          # 47 steps per epoch at 6,000 images; small enough for BatchNorm
    "lr": 0.05,                 # largest rate that trained stably over 5 seeds (SGD, Nesterov)
    "momentum": 0.9,            # standard SGD momentum
    "nesterov": True,           # Nesterov momentum (the CIFAR-10S reference code: plain)
    "weight_decay": 5e-4,       # the usual CIFAR value; mild regularisation
    "schedule": "cosine",       # cosine to 0 over `epochs`; 'constant' (CelebA); 'multistep' (CIFAR ResNet)
    "augment": "none",          # no augmentation (seconds per model); 'crop-flip': pad-4 crop + flip
    "normalize": "none",        # images in [0, 1] as they are; 'cifar': CIFAR-10's mean and std
    # --- difficulty score (early in training, as the paper)
    "score": "el2n",            # the paper's score: ||softmax - onehot||_2
    "score_epoch": 3,           # early: 1/5 of training, as 10 of 25 epochs in the reference
    "score_seeds": 1,           # the reference code scores with a single run
    # --- pruning and the JTT arm
    "prune_ratio": 0.25,        # the top quarter of every class: removes most of the excess SMR
    "strategy": "hardest",      # the paper's label-free method
    "scope": "class",           # per class (label-free); 'oracle' = within the carriers only
    "jtt_upweight": 5,          # JTT's error-set upweighting factor (its papers tune 5-100)
    # --- randomness
    "seed": 0,                  # seeds data, placement, initialisation, batch order and pruning
}

# What the default data's images are (the embedded shapes: one channel, six classes), for the
# functions that build a model before any data is given (spurlab.make_model, TinyCNN).
DATA_SHAPE = {"in_channels": 1, "num_classes": 6}

# The strong signal notebooks 03 and 04 share, so that what 03 shows about its carriers (they are
# fit early and leave the hard tail) is what 04 prunes: a fully opaque line two pixels thick on 60%
# of c1, a point of the atlas's 2-px layer and of the drivers build. The weak signal is each
# preset's default (salience 0.5, one pixel, 30%).
STRONG_SIGNAL = {"salience": 1.0, "prevalence": 0.6, "thickness": 2}

__all__ = ["DATA_SHAPE", "DEFAULTS", "STRONG_SIGNAL"]
