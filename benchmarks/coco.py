"""COCO's 80 classes and the tag a user would use for each: one home for the benchmarks
(quality.py, taxonomy_check.py) and the taxonomy's test. Constants only, no imports, so a test
can load it by path."""

# COCO-80 class -> the tag a user would type. Names the taxonomy lacks stay natural names:
# the class scores AP 0 until such a tag exists (imported corrections create it).
COCO_TO_TAG = {
    "person": "person", "bicycle": "bicycle", "car": "car", "motorcycle": "motorcycle",
    "airplane": "airplane", "bus": "bus", "train": "train", "truck": "truck", "boat": "boat",
    "traffic light": "traffic light", "fire hydrant": "fire hydrant", "stop sign": "stop sign",
    "parking meter": "parking meter", "bench": "bench", "bird": "bird", "cat": "cat", "dog": "dog",
    "horse": "horse", "sheep": "sheep", "cow": "cow", "elephant": "elephant", "bear": "bear",
    "zebra": "zebra", "giraffe": "giraffe", "backpack": "backpack", "umbrella": "umbrella",
    "handbag": "handbag", "tie": "tie", "suitcase": "suitcase", "frisbee": "frisbee", "skis": "skis",
    "snowboard": "snowboard", "sports ball": "ball", "kite": "kite", "baseball bat": "baseball bat",
    "baseball glove": "baseball glove", "skateboard": "skateboard", "surfboard": "surfboard",
    "tennis racket": "tennis racket", "bottle": "bottle", "wine glass": "wine glass", "cup": "cup",
    "fork": "fork", "knife": "knife", "spoon": "spoon", "bowl": "bowl", "banana": "banana",
    "apple": "apple", "sandwich": "sandwich", "orange": "orange", "broccoli": "broccoli",
    "carrot": "carrot", "hot dog": "hot dog", "pizza": "pizza", "donut": "donut", "cake": "cake",
    "chair": "chair", "couch": "sofa", "potted plant": "potted plant", "bed": "bed",
    "dining table": "table", "toilet": "toilet", "tv": "television", "laptop": "laptop",
    "mouse": "computer mouse", "remote": "remote control", "keyboard": "keyboard",
    "cell phone": "phone", "microwave": "microwave", "oven": "oven", "toaster": "toaster",
    "sink": "sink", "refrigerator": "refrigerator", "book": "book", "clock": "clock", "vase": "vase",
    "scissors": "scissors", "teddy bear": "teddy bear", "hair drier": "hair dryer",
    "toothbrush": "toothbrush",
}

COCO_CLASSES = tuple(COCO_TO_TAG)  # under COCO's own names
