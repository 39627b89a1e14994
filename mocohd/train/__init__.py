"""Trainers: the StyleGAN2 image GAN and the MoCoGAN-HD video GAN, with checkpoints."""
