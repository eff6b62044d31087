"""Pure annotation readers (no Beam): one small reader per format (COCO, Pascal VOC, YOLO,
CSV boxes), each giving one normalised `Annotation` per image, and the placement of its
boxes in the output frame through the image path's Geometry."""
