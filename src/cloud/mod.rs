//! Cloud dialects: the generic topic scheme translated to AWS IoT Core and Azure IoT Hub.
